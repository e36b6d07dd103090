// The PostgreSQL schema as numbered migrations: entry N brings a database whose schema_migrations ends at N to N+1.
// Append, never edit. Each runs in the transaction that records it.
export const migrations: readonly string[] = [
  `CREATE TABLE images (
     seq BIGSERIAL PRIMARY KEY,
     id TEXT NOT NULL UNIQUE,
     ready BOOLEAN NOT NULL DEFAULT FALSE,
     created_at TIMESTAMPTZ NOT NULL,
     name TEXT,
     format TEXT NOT NULL,
     width INTEGER NOT NULL,
     height INTEGER NOT NULL,
     orig_hash TEXT NOT NULL,
     orig_bytes BIGINT NOT NULL,
     orig_mime TEXT NOT NULL,
     thumb_hash TEXT NOT NULL,
     thumb_bytes BIGINT NOT NULL,
     thumb_mime TEXT NOT NULL,
     thumb_width INTEGER NOT NULL,
     thumb_height INTEGER NOT NULL,
     thumb_spec TEXT NOT NULL,
     delete_token_hash TEXT NOT NULL
   );
   CREATE INDEX images_ready_seq ON images (ready, seq);
   CREATE INDEX images_orig ON images (orig_hash, thumb_spec);
   CREATE INDEX images_thumb ON images (thumb_hash);`,
  // Until when a live upload holds its pending record, by the database's clock, so the clocks
  // of the nodes do not matter. The default (one lease, PENDING_LEASE) covers records written by
  // nodes of an older version during a rolling upgrade, which do not renew leases.
  `ALTER TABLE images ADD COLUMN lease_until TIMESTAMPTZ NOT NULL DEFAULT now() + interval '30 seconds';
   CREATE INDEX images_pending_lease ON images (lease_until) WHERE NOT ready;`,
  // Renditions of an original, shared by the images that have it; `hash` is the variant's blob.
  `CREATE TABLE variants (
     orig_hash TEXT NOT NULL,
     spec TEXT NOT NULL,
     hash TEXT NOT NULL,
     bytes BIGINT NOT NULL,
     mime TEXT NOT NULL,
     width INTEGER NOT NULL,
     height INTEGER NOT NULL,
     created_at TIMESTAMPTZ NOT NULL,
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
  // Upload counts per client and window, shared by the nodes (unlogged: a crash only resets them).
  `CREATE TABLE users (
     id TEXT PRIMARY KEY,
     name TEXT NOT NULL UNIQUE,
     quota_bytes BIGINT,
     max_images BIGINT,
     created_at TIMESTAMPTZ NOT NULL
   );
   CREATE TABLE api_keys (
     id TEXT PRIMARY KEY,
     user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
     key_hash TEXT NOT NULL UNIQUE,
     label TEXT,
     created_at TIMESTAMPTZ NOT NULL,
     last_used_at TIMESTAMPTZ
   );
   CREATE INDEX api_keys_user ON api_keys (user_id);
   ALTER TABLE images ADD COLUMN owner_id TEXT;
   ALTER TABLE images ADD COLUMN unlisted BOOLEAN NOT NULL DEFAULT FALSE;
   ALTER TABLE images ADD COLUMN expires_at TIMESTAMPTZ;
   ALTER TABLE images ADD COLUMN max_views INTEGER;
   ALTER TABLE images ADD COLUMN views INTEGER NOT NULL DEFAULT 0;
   CREATE INDEX images_owner ON images (owner_id, seq) WHERE owner_id IS NOT NULL;
   CREATE INDEX images_listed ON images (seq) WHERE ready AND NOT unlisted;
   CREATE INDEX images_expiry ON images (expires_at) WHERE expires_at IS NOT NULL;
   CREATE TABLE takedowns (
     hash TEXT PRIMARY KEY,
     reason TEXT,
     created_at TIMESTAMPTZ NOT NULL
   );
   CREATE TABLE taken_down_images (
     id TEXT PRIMARY KEY,
     hash TEXT NOT NULL
   );
   CREATE INDEX taken_down_images_hash ON taken_down_images (hash);
   CREATE TABLE takedown_log (
     seq BIGSERIAL PRIMARY KEY,
     at TIMESTAMPTZ NOT NULL,
     action TEXT NOT NULL,
     hash TEXT NOT NULL,
     reason TEXT,
     images INTEGER NOT NULL
   );
   CREATE UNLOGGED TABLE rate_limits (
     key TEXT PRIMARY KEY,
     window_start TIMESTAMPTZ NOT NULL,
     hits INTEGER NOT NULL
   );
   CREATE INDEX images_owner_bytes ON images (owner_id, orig_bytes) WHERE owner_id IS NOT NULL;
   -- Images the expiry sweep removed, and whether their views were used up: their links answer 410.
   CREATE TABLE ended_images (
     id TEXT PRIMARY KEY,
     views_used_up BOOLEAN NOT NULL
   );`,
];
