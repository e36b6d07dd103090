// The SQLite schema as numbered migrations: entry N brings a database at user_version N to N+1. Append, never edit.
export const migrations: readonly string[] = [
  `CREATE TABLE images (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     id TEXT NOT NULL UNIQUE,
     ready INTEGER NOT NULL DEFAULT 0,
     created_at INTEGER NOT NULL,
     name TEXT,
     format TEXT NOT NULL,
     width INTEGER NOT NULL,
     height INTEGER NOT NULL,
     orig_hash TEXT NOT NULL,
     orig_bytes INTEGER NOT NULL,
     orig_mime TEXT NOT NULL,
     thumb_hash TEXT NOT NULL,
     thumb_bytes INTEGER NOT NULL,
     thumb_mime TEXT NOT NULL,
     thumb_width INTEGER NOT NULL,
     thumb_height INTEGER NOT NULL,
     thumb_spec TEXT NOT NULL,
     delete_token_hash TEXT NOT NULL
   );
   CREATE INDEX images_ready_seq ON images (ready, seq);
   CREATE INDEX images_orig ON images (orig_hash, thumb_spec);
   CREATE INDEX images_thumb ON images (thumb_hash);`,
  // Milliseconds since the epoch until which a live upload holds its pending record.
  `ALTER TABLE images ADD COLUMN lease_until INTEGER NOT NULL DEFAULT 0;
   CREATE INDEX images_pending_lease ON images (lease_until) WHERE ready = 0;`,
  // Renditions of an original, shared by the images that have it; `hash` is the variant's blob.
  `CREATE TABLE variants (
     orig_hash TEXT NOT NULL,
     spec TEXT NOT NULL,
     hash TEXT NOT NULL,
     bytes INTEGER NOT NULL,
     mime TEXT NOT NULL,
     width INTEGER NOT NULL,
     height INTEGER NOT NULL,
     created_at INTEGER NOT NULL,
     PRIMARY KEY (orig_hash, spec)
   );
   CREATE INDEX variants_hash ON variants (hash);`,
  // Frames of an animation (1 for a still image); 0 until counted, for the images stored before
  // (and, on PostgreSQL, by nodes of an older version during a rolling upgrade): only a GIF, a
  // WebP or a TIFF may have more than one, and the server counts those after it starts
  // (backfill-frames.ts). A small blurred preview (ThumbHash, base64).
  `ALTER TABLE images ADD COLUMN frames INTEGER NOT NULL DEFAULT 0;
   UPDATE images SET frames = 1 WHERE format NOT IN ('gif', 'webp', 'tiff');
   CREATE INDEX images_uncounted_frames ON images (seq) WHERE frames = 0;
   ALTER TABLE images ADD COLUMN placeholder TEXT;`,
  // Accounts: users (a quota in bytes and images, none when NULL) and their API keys, kept as
  // SHA-256 hashes; each image's owner (NULL: anonymous) and per-upload visibility: unlisted
  // (not in the public listing), an expiry time, and a number of views of the original after
  // which it is gone. Takedowns: the originals refused for good (by SHA-256), the images a
  // takedown removed (so their links answer 410), and an audit log of takedowns and undos.
  `CREATE TABLE users (
     id TEXT PRIMARY KEY,
     name TEXT NOT NULL UNIQUE,
     quota_bytes INTEGER,
     max_images INTEGER,
     created_at INTEGER NOT NULL
   );
   CREATE TABLE api_keys (
     id TEXT PRIMARY KEY,
     user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
     key_hash TEXT NOT NULL UNIQUE,
     label TEXT,
     created_at INTEGER NOT NULL,
     last_used_at INTEGER
   );
   CREATE INDEX api_keys_user ON api_keys (user_id);
   ALTER TABLE images ADD COLUMN owner_id TEXT;
   ALTER TABLE images ADD COLUMN unlisted INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE images ADD COLUMN expires_at INTEGER;
   ALTER TABLE images ADD COLUMN max_views INTEGER;
   ALTER TABLE images ADD COLUMN views INTEGER NOT NULL DEFAULT 0;
   CREATE INDEX images_owner ON images (owner_id, seq) WHERE owner_id IS NOT NULL;
   CREATE INDEX images_listed ON images (seq) WHERE ready = 1 AND unlisted = 0;
   CREATE INDEX images_expiry ON images (expires_at) WHERE expires_at IS NOT NULL;
   CREATE TABLE takedowns (
     hash TEXT PRIMARY KEY,
     reason TEXT,
     created_at INTEGER NOT NULL
   );
   CREATE TABLE taken_down_images (
     id TEXT PRIMARY KEY,
     hash TEXT NOT NULL
   );
   CREATE INDEX taken_down_images_hash ON taken_down_images (hash);
   CREATE TABLE takedown_log (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     at INTEGER NOT NULL,
     action TEXT NOT NULL,
     hash TEXT NOT NULL,
     reason TEXT,
     images INTEGER NOT NULL
   );
   CREATE INDEX images_owner_bytes ON images (owner_id, orig_bytes) WHERE owner_id IS NOT NULL;
   -- Images the expiry sweep removed, and whether their views were used up: their links answer 410.
   CREATE TABLE ended_images (
     id TEXT PRIMARY KEY,
     views_used_up INTEGER NOT NULL
   );`,
];
