// SqliteRepo, the embedded metadata store, on a real SQLite file: migrations, the pending/ready
// life of a record, pagination, removal and the queries gc relies on.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { NewImage } from '../../src/repo/index.js';
import { SqliteRepo } from '../../src/repo/sqlite.js';
import { tempDir } from '../helpers/server.js';

const hash = (seed: string): string => createHash('sha256').update(seed).digest('hex');

let counter = 0;
/** A record as the upload pipeline would make it; `seed` names its blobs. */
function image(overrides: Partial<NewImage> = {}, seed = `blob-${String(++counter)}`): NewImage {
  return {
    id: randomBytes(12).toString('base64url'),
    createdAt: new Date(),
    name: `${seed}.png`,
    format: 'png',
    width: 640,
    height: 480,
    orig: { hash: hash(`orig:${seed}`), bytes: 12345, mime: 'image/png' },
    thumb: { hash: hash(`thumb:${seed}`), bytes: 2345, mime: 'image/png', width: 128, height: 96 },
    thumbSpec: '128:png',
    deleteTokenHash: hash(`token:${seed}`),
    ...overrides,
  };
}

async function ready(repo: SqliteRepo, img: NewImage): Promise<NewImage> {
  await repo.insertPending(img);
  await repo.markReady(img.id);
  return img;
}

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
  db.prepare<[], { sql: string }>("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name").all().map((r) => r.sql));

describe('SqliteRepo', () => {
  let dir: string;
  let path: string;
  let repo: SqliteRepo;
  before(async () => { dir = await tempDir('imghost-sqlite-'); });
  after(() => rm(dir, { recursive: true, force: true }));
  beforeEach(() => {
    path = join(dir, randomBytes(4).toString('hex'), 'nested', 'imghost.db');
    repo = new SqliteRepo(path);
  });
  afterEach(() => repo.close());

  describe('migrations', () => {
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

  describe('a pending record', () => {
    it('is invisible to get, list and findDuplicate', async () => {
      const img = image();
      await repo.insertPending(img);
      assert.equal(await repo.get(img.id), null);
      assert.deepEqual(await repo.list(10), []);
      assert.equal(await repo.findDuplicate(img.orig.hash, img.thumbSpec), null);
    });

    it('counts as a reference to both of its blobs', async () => {
      const img = image();
      await repo.insertPending(img);
      assert.equal(await repo.isReferenced(img.orig.hash), true);
      assert.equal(await repo.isReferenced(img.thumb.hash), true);
      assert.equal(await repo.isReferenced(hash('unrelated')), false);
      const referenced = await repo.referencedHashes();
      assert.ok(referenced.has(img.orig.hash));
      assert.ok(referenced.has(img.thumb.hash));
    });

    it('becomes visible everywhere once marked ready, with every field as stored', async () => {
      const img = image({ name: null, format: 'jpeg', width: 3000, height: 2000 });
      await repo.insertPending(img);
      await repo.markReady(img.id);
      const got = await repo.get(img.id);
      assert.ok(got);
      const { seq, ...rest } = got;
      assert.ok(Number.isInteger(seq) && seq > 0);
      assert.deepEqual(rest, img);
      assert.deepEqual((await repo.list(10)).map((r) => r.id), [img.id]);
      assert.equal((await repo.findDuplicate(img.orig.hash, img.thumbSpec))?.id, img.id);
    });

    it('refuses a second record with the same id', async () => {
      const img = image();
      await repo.insertPending(img);
      await assert.rejects(async () => { await repo.insertPending({ ...image(), id: img.id }); }, /UNIQUE/);
    });
  });

  describe('findDuplicate', () => {
    it('matches the original hash and the thumbnail settings together', async () => {
      const img = await ready(repo, image());
      assert.equal((await repo.findDuplicate(img.orig.hash, '128:png'))?.id, img.id);
      assert.equal(await repo.findDuplicate(img.orig.hash, '256:png'), null);
      assert.equal(await repo.findDuplicate(img.orig.hash, '128:webp'), null);
      assert.equal(await repo.findDuplicate(img.thumb.hash, '128:png'), null);
    });
  });

  describe('list', () => {
    it('returns ready images newest first and pages through them by the seq cursor', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) {
        // Creation times run backwards: the order must come from insertion (seq), not the clock.
        const img = image({ createdAt: new Date(Date.UTC(2030, 0, 1) - i * 60_000) });
        await repo.insertPending(img);
        await repo.markReady(img.id);
        ids.push(img.id);
        // Pending records in between must not disturb the pages.
        await repo.insertPending(image());
      }
      const newestFirst = [...ids].reverse();

      const pages: string[][] = [];
      let before: number | undefined;
      for (;;) {
        const page = await repo.list(3, before);
        if (page.length === 0) break;
        pages.push(page.map((r) => r.id));
        const last = page.at(-1);
        assert.ok(last);
        before = last.seq;
      }
      assert.deepEqual(pages, [newestFirst.slice(0, 3), newestFirst.slice(3, 6), newestFirst.slice(6)]);
      assert.deepEqual((await repo.list(100)).map((r) => r.id), newestFirst);
    });

    it('gives a record the seq of its insertion, not of when it became ready', async () => {
      const first = image();
      await repo.insertPending(first);
      const second = await ready(repo, image());
      await repo.markReady(first.id);
      assert.deepEqual((await repo.list(10)).map((r) => r.id), [second.id, first.id]);
    });
  });

  describe('remove', () => {
    it('deletes a ready or a pending record and answers true', async () => {
      const kept = await ready(repo, image());
      const done = await ready(repo, image());
      const pending = image();
      await repo.insertPending(pending);
      assert.equal(await repo.remove(done.id), true);
      assert.equal(await repo.remove(pending.id), true);
      assert.equal(await repo.get(done.id), null);
      assert.deepEqual((await repo.list(10)).map((r) => r.id), [kept.id]);
      assert.equal(await repo.isReferenced(done.orig.hash), false);
      assert.equal(await repo.isReferenced(pending.thumb.hash), false);
    });

    it('answers false for an id it does not know, or no longer knows', async () => {
      assert.equal(await repo.remove('AAAAAAAAAAAAAAAA'), false);
      const img = await ready(repo, image());
      assert.equal(await repo.remove(img.id), true);
      assert.equal(await repo.remove(img.id), false);
    });

    it('keeps a blob referenced while another record still shares it', async () => {
      const a = await ready(repo, image({}, 'shared'));
      const b = await ready(repo, image({}, 'shared'));
      assert.equal(a.orig.hash, b.orig.hash);
      await repo.remove(a.id);
      assert.equal(await repo.isReferenced(a.orig.hash), true);
      assert.equal(await repo.isReferenced(a.thumb.hash), true);
      await repo.remove(b.id);
      assert.equal(await repo.isReferenced(a.orig.hash), false);
      assert.equal(await repo.isReferenced(a.thumb.hash), false);
    });
  });

  describe('referencedHashes', () => {
    it('holds the original and thumbnail hash of every record, pending or ready', async () => {
      const a = await ready(repo, image());
      const b = image();
      await repo.insertPending(b);
      const shared = await ready(repo, image({ thumb: { ...a.thumb } }));
      assert.deepEqual(
        [...await repo.referencedHashes()].sort(),
        [a.orig.hash, a.thumb.hash, b.orig.hash, b.thumb.hash, shared.orig.hash].sort(),
      );
    });
  });

  describe('stalePending', () => {
    it('returns only pending records created before the cutoff', async () => {
      const cutoff = new Date('2030-06-01T00:00:00Z');
      const oldPending = image({ createdAt: new Date('2030-05-01T00:00:00Z') });
      const newPending = image({ createdAt: new Date('2030-07-01T00:00:00Z') });
      const atCutoff = image({ createdAt: cutoff });
      await repo.insertPending(oldPending);
      await repo.insertPending(newPending);
      await repo.insertPending(atCutoff);
      await ready(repo, image({ createdAt: new Date('2030-01-01T00:00:00Z') }));

      const stale = await repo.stalePending(cutoff);
      assert.deepEqual(stale.map((r) => r.id), [oldPending.id]);
      const [found] = stale;
      assert.ok(found);
      assert.deepEqual([found.orig.hash, found.thumb.hash], [oldPending.orig.hash, oldPending.thumb.hash]);
    });
  });
});
