// SqliteRepo, the embedded metadata store, on a real SQLite file: the shared repository
// contract, plus what only SQLite has (its directory, user_version migrations, WAL mode), and
// how it reports a database it cannot use or a disk that is full.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { StorageFull } from '../../src/errors.js';
import { migrations } from '../../src/repo/sqlite-schema.js';
import { SqliteRepo } from '../../src/repo/sqlite.js';
import { fill, mountWorks, smallDisk } from '../helpers/disk.js';
import { tempDir } from '../helpers/server.js';
import { hash, image, ready, repoContract } from './contract.js';

/** Reads a pragma or the schema through a separate connection, as another process would. */
function inspect<T>(path: string, query: (db: Database.Database) => T): T {
  const db = new Database(path, { readonly: true });
  try {
    return query(db);
  } finally {
    db.close();
  }
}

const userVersion = (path: string): number => inspect(path, (db) => db.pragma('user_version', { simple: true }) as number);
const schema = (path: string): string[] => inspect(path, (db) =>
  db.prepare<[], { sql: string }>('SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name').all().map((r) => r.sql));

let dir: string;
before(async () => { dir = await tempDir('imghost-sqlite-'); });
after(() => rm(dir, { recursive: true, force: true }));

/** A database file in a directory that does not exist yet. */
const newPath = (): string => join(dir, randomBytes(4).toString('hex'), 'nested', 'imghost.db');

repoContract('SqliteRepo', () => {
  const repo = new SqliteRepo(newPath());
  return Promise.resolve({ repo, cleanup: () => repo.close() });
});

describe('SqliteRepo migrations and journal', () => {
  let path: string;
  let repo: SqliteRepo;
  beforeEach(() => {
    path = newPath();
    repo = new SqliteRepo(path);
  });
  afterEach(() => repo.close());

  it('creates its directory and brings a new database to the latest schema version', async () => {
    await repo.ping();
    const version = userVersion(path);
    assert.ok(version >= 1, `user_version is ${String(version)}`);
    const tables = inspect(path, (db) => db.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'").all().map((r) => r.name));
    assert.ok(tables.includes('images'));
  });

  it('reopens an existing database without migrating again, keeping its data', async () => {
    const kept = await ready(repo, image());
    const pending = image();
    await repo.insertPending(pending);
    const version = userVersion(path);
    const before = schema(path);
    await repo.close();

    repo = new SqliteRepo(path);
    assert.equal(userVersion(path), version);
    assert.deepEqual(schema(path), before);
    assert.equal((await repo.get(kept.id))?.id, kept.id);
    assert.deepEqual((await repo.stalePending(new Date(Date.now() + 60_000))).map((r) => r.id), [pending.id]);
  });

  it('keeps the database in WAL mode, so readers do not wait for the writer', () => {
    assert.equal(inspect(path, (db) => db.pragma('journal_mode', { simple: true })), 'wal');
  });
});

describe('SqliteRepo records read by get, kept in memory', () => {
  let path: string;
  let repo: SqliteRepo;
  let other: SqliteRepo;
  beforeEach(() => {
    path = newPath();
    repo = new SqliteRepo(path);
    other = new SqliteRepo(path);
  });
  afterEach(async () => { await Promise.all([repo.close(), other.close()]); });

  it('no longer answers a record another connection (another worker or process) deleted, from the next get on', async () => {
    const img = await ready(other, image());
    assert.equal((await repo.get(img.id))?.id, img.id);
    assert.equal((await repo.get(img.id))?.id, img.id, 'read again, now from memory');
    assert.equal(await other.remove(img.id), true);
    assert.equal(await repo.get(img.id), null);
  });

  it('no longer answers a record it deleted itself, nor an old frame count it changed', async () => {
    const img = await ready(repo, image({ format: 'gif', frames: 1, framesUncounted: true }));
    assert.equal((await repo.get(img.id))?.frames, 1);
    assert.equal(await repo.setFrames(img.id, 12), true);
    assert.equal((await repo.get(img.id))?.frames, 12);
    assert.equal(await repo.remove(img.id), true);
    assert.equal(await repo.get(img.id), null);
  });

  it('sees a record another connection changed', async () => {
    const img = await ready(repo, image({ format: 'gif', frames: 1, framesUncounted: true }));
    await repo.get(img.id);
    assert.equal(await other.setFrames(img.id, 7), true);
    assert.equal((await repo.get(img.id))?.frames, 7);
  });
});

describe('SqliteRepo migration to counted frames', () => {
  it('marks the GIFs, WebPs and TIFFs of a database at version 3 uncounted, and every other image as 1 frame', async () => {
    const path = join(dir, `v3-${randomBytes(4).toString('hex')}.db`);
    const formats = ['gif', 'png', 'webp', 'jpeg', 'tiff'];
    const older = new Database(path);
    try {
      for (const migration of migrations.slice(0, 3)) older.exec(migration);
      older.pragma('user_version = 3');
      const insert = older.prepare(`INSERT INTO images (id, ready, created_at, format, width, height, orig_hash, orig_bytes,
        orig_mime, thumb_hash, thumb_bytes, thumb_mime, thumb_width, thumb_height, thumb_spec, delete_token_hash)
        VALUES (?, 1, 0, ?, 40, 30, ?, 100, 'image/gif', ?, 50, 'image/png', 40, 30, '128:png', ?)`);
      for (const format of formats) insert.run(`old-${format}`, format, hash(`orig:${format}`), hash(`thumb:${format}`), hash(format));
    } finally {
      older.close();
    }
    const repo = new SqliteRepo(path);
    try {
      const frames = inspect(path, (db) => db.prepare<[], { format: string; frames: number }>('SELECT format, frames FROM images ORDER BY seq').all());
      assert.deepEqual(frames, [{ format: 'gif', frames: 0 }, { format: 'png', frames: 1 }, { format: 'webp', frames: 0 },
        { format: 'jpeg', frames: 1 }, { format: 'tiff', frames: 0 }]);
      assert.deepEqual((await repo.uncountedFrames(10)).map((r) => r.id), ['old-gif', 'old-webp', 'old-tiff']);
      const gif = await repo.get('old-gif');
      assert.deepEqual([gif?.frames, gif?.framesUncounted], [1, true]);
    } finally {
      await repo.close();
    }
  });
});

describe('SqliteRepo.referencedHashes on a large library', () => {
  it('reads every record page by page, letting other work run in between', async () => {
    const repo = new SqliteRepo(newPath());
    try {
      const images = Array.from({ length: 6_000 }, () => image());
      for (const img of images) await repo.insertPending(img);
      let turns = 0;
      const ticker = setInterval(() => { turns++; }, 0);
      const referenced = await repo.referencedHashes();
      clearInterval(ticker);
      assert.equal(referenced.size, 12_000, 'an original and a thumbnail hash per record, across several pages');
      assert.ok(images.every((img) => referenced.has(img.orig.hash) && referenced.has(img.thumb.hash)));
      assert.ok(turns >= 1, `timers ran ${String(turns)} times while the records were read`);
    } finally {
      await repo.close();
    }
  });
});

describe('SqliteRepo failures', () => {
  it('answers with a rejected promise, never a synchronous throw, when the database cannot be used', async () => {
    const repo = new SqliteRepo(newPath());
    await repo.close();
    // Called outside any promise chain: a synchronous throw would escape assert.rejects' promise.
    const answers = [repo.ping(), repo.get('AAAAAAAAAAAAAAAA'), repo.insertPending(image()), repo.remove('AAAAAAAAAAAAAAAA')];
    for (const answer of answers) await assert.rejects(answer, /not open/);
  });

  it('rejects with StorageFull (507, SQLITE_FULL) on a full disk, and writes again once there is room', { skip: mountWorks ? false : 'needs root and mount to make a small tmpfs' }, async () => {
    const disk = await smallDisk('2m');
    const repo = new SqliteRepo(join(disk.dir, 'imghost.db'));
    try {
      const kept = await ready(repo, image());
      await fill(join(disk.dir, 'filler'));
      // Each commit appends a page to the WAL: some commit soon finds no room.
      const refused = await (async () => {
        for (let i = 0; i < 1000; i++) await repo.insertPending(image());
        return null;
      })().catch((err: unknown) => err);
      assert.ok(refused instanceof StorageFull, `rejected with ${String(refused)}`);
      assert.equal(refused.status, 507);
      assert.equal(refused.code, 'SQLITE_FULL');
      assert.equal((await repo.get(kept.id))?.id, kept.id, 'what is stored is still read');
      await rm(join(disk.dir, 'filler'));
      const next = await ready(repo, image());
      assert.equal((await repo.get(next.id))?.id, next.id);
    } finally {
      await repo.close();
      await disk.unmount();
    }
  });
});
