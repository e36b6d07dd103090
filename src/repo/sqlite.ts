// The embedded metadata store: one SQLite file in WAL mode through better-sqlite3.
// Queries are synchronous but each is an indexed lookup of well under a millisecond.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ImageRecord, ImageRepo, NewImage } from './index.js';

// Numbered migrations: entry N brings a database at user_version N to N+1. Append, never edit.
const migrations: readonly string[] = [
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
];

interface Row {
  seq: number; id: string; ready: number; created_at: number; name: string | null;
  format: string; width: number; height: number;
  orig_hash: string; orig_bytes: number; orig_mime: string;
  thumb_hash: string; thumb_bytes: number; thumb_mime: string; thumb_width: number; thumb_height: number;
  thumb_spec: string; delete_token_hash: string;
}

const toRecord = (r: Row): ImageRecord => ({
  id: r.id,
  seq: r.seq,
  createdAt: new Date(r.created_at),
  name: r.name,
  format: r.format,
  width: r.width,
  height: r.height,
  orig: { hash: r.orig_hash, bytes: r.orig_bytes, mime: r.orig_mime },
  thumb: { hash: r.thumb_hash, bytes: r.thumb_bytes, mime: r.thumb_mime, width: r.thumb_width, height: r.thumb_height },
  thumbSpec: r.thumb_spec,
  deleteTokenHash: r.delete_token_hash,
});

/** Records read at a time by referencedHashes. */
const HASH_PAGE = 5000;

export class SqliteRepo implements ImageRepo {
  private readonly db: Database.Database;
  private readonly stmts;

  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    // FULL: a record acknowledged with 201 survives a power cut, not only a process crash.
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    this.migrate();
    const db = this.db;
    this.stmts = {
      insert: db.prepare(`INSERT INTO images (id, ready, created_at, name, format, width, height,
          orig_hash, orig_bytes, orig_mime, thumb_hash, thumb_bytes, thumb_mime, thumb_width, thumb_height,
          thumb_spec, delete_token_hash)
        VALUES (@id, 0, @created_at, @name, @format, @width, @height, @orig_hash, @orig_bytes, @orig_mime,
          @thumb_hash, @thumb_bytes, @thumb_mime, @thumb_width, @thumb_height, @thumb_spec, @delete_token_hash)`),
      markReady: db.prepare('UPDATE images SET ready = 1 WHERE id = ?'),
      get: db.prepare<[string], Row>('SELECT * FROM images WHERE id = ? AND ready = 1'),
      list: db.prepare<[number, number], Row>('SELECT * FROM images WHERE ready = 1 AND seq < ? ORDER BY seq DESC LIMIT ?'),
      duplicate: db.prepare<[string, string], Row>(
        'SELECT * FROM images WHERE orig_hash = ? AND thumb_spec = ? AND ready = 1 LIMIT 1'),
      remove: db.prepare('DELETE FROM images WHERE id = ?'),
      referenced: db.prepare<[string, string], { one: number }>(
        'SELECT 1 AS one WHERE EXISTS (SELECT 1 FROM images WHERE orig_hash = ?) OR EXISTS (SELECT 1 FROM images WHERE thumb_hash = ?)'),
      stale: db.prepare<[number], Row>('SELECT * FROM images WHERE ready = 0 AND created_at < ?'),
      hashes: db.prepare<[number, number], { seq: number; orig_hash: string; thumb_hash: string }>(
        'SELECT seq, orig_hash, thumb_hash FROM images WHERE seq > ? ORDER BY seq LIMIT ?'),
      ping: db.prepare('SELECT 1'),
    };
  }

  private migrate(): void {
    const apply = this.db.transaction(() => {
      const version = this.db.pragma('user_version', { simple: true }) as number;
      for (let v = version; v < migrations.length; v++) {
        this.db.exec(migrations[v] ?? '');
        this.db.pragma(`user_version = ${String(v + 1)}`);
      }
    });
    apply.immediate();
  }

  ping(): Promise<void> {
    this.stmts.ping.get();
    return Promise.resolve();
  }

  insertPending(image: NewImage): Promise<void> {
    // A pending record need not survive a power cut: its blobs would then be swept as orphans. So
    // its commit skips the fsync, and markReady's commit makes one for both (WAL appends in order).
    this.db.pragma('synchronous = NORMAL');
    try {
      this.insert(image);
    } finally {
      this.db.pragma('synchronous = FULL');
    }
    return Promise.resolve();
  }

  private insert(image: NewImage): void {
    this.stmts.insert.run({
      id: image.id,
      created_at: image.createdAt.getTime(),
      name: image.name,
      format: image.format,
      width: image.width,
      height: image.height,
      orig_hash: image.orig.hash,
      orig_bytes: image.orig.bytes,
      orig_mime: image.orig.mime,
      thumb_hash: image.thumb.hash,
      thumb_bytes: image.thumb.bytes,
      thumb_mime: image.thumb.mime,
      thumb_width: image.thumb.width,
      thumb_height: image.thumb.height,
      thumb_spec: image.thumbSpec,
      delete_token_hash: image.deleteTokenHash,
    });
  }

  markReady(id: string): Promise<void> {
    this.stmts.markReady.run(id);
    return Promise.resolve();
  }

  get(id: string): Promise<ImageRecord | null> {
    const row = this.stmts.get.get(id);
    return Promise.resolve(row ? toRecord(row) : null);
  }

  list(limit: number, before = Number.MAX_SAFE_INTEGER): Promise<ImageRecord[]> {
    return Promise.resolve(this.stmts.list.all(before, limit).map(toRecord));
  }

  findDuplicate(origHash: string, thumbSpec: string): Promise<ImageRecord | null> {
    const row = this.stmts.duplicate.get(origHash, thumbSpec);
    return Promise.resolve(row ? toRecord(row) : null);
  }

  remove(id: string): Promise<boolean> {
    return Promise.resolve(this.stmts.remove.run(id).changes > 0);
  }

  isReferenced(hash: string): Promise<boolean> {
    return Promise.resolve(this.stmts.referenced.get(hash, hash) !== undefined);
  }

  stalePending(olderThan: Date): Promise<ImageRecord[]> {
    return Promise.resolve(this.stmts.stale.all(olderThan.getTime()).map(toRecord));
  }

  async referencedHashes(): Promise<Set<string>> {
    const set = new Set<string>();
    // Page by page, yielding between pages: the start-up sweep reads every record, and requests
    // (readiness probes first) must not wait for a large library to be read.
    let after = 0;
    for (;;) {
      const page = this.stmts.hashes.all(after, HASH_PAGE);
      const last = page.at(-1);
      if (last === undefined) return set;
      for (const row of page) set.add(row.orig_hash).add(row.thumb_hash);
      after = last.seq;
      await new Promise(setImmediate);
    }
  }

  close(): Promise<void> {
    this.db.close();
    return Promise.resolve();
  }
}
