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
];
