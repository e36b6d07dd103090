// What every AccountRepo adapter must do, on a real SQLite file and a real PostgreSQL: users and
// their limits, keys found by hash with their last use, usage as quotas count it, a user's images
// in pages, and insertPending holding an owned record to its owner's quota.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout } from 'node:timers/promises';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import { AppError } from '../../src/errors.js';
import { newId } from '../../src/ids.js';
import { INSERT_COLUMNS, insertPlaceholders, insertValues } from '../../src/repo/columns.js';
import type { ImageRepo } from '../../src/repo/index.js';
import { PostgresRepo } from '../../src/repo/postgres.js';
import { SqliteRepo } from '../../src/repo/sqlite.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { tempDir } from '../helpers/server.js';
import { hash, image, ready } from './contract.js';

let dir: string;
let postgres: TestPostgres;
before(async () => { [dir, postgres] = await Promise.all([tempDir('imghost-accounts-'), startPostgres()]); });
after(() => Promise.all([rm(dir, { recursive: true, force: true }), postgres.stop()]));

const refusal = (status: number, code: string) => (err: unknown): boolean =>
  err instanceof AppError && err.status === status && err.code === code;

function accountContract(name: string, open: () => Promise<ImageRepo>): void {
  describe(`${name}: the AccountRepo contract`, () => {
    let repo: ImageRepo;
    beforeEach(async () => { repo = await open(); });
    afterEach(() => repo.close());

    const addUser = async (userName: string, quotaBytes: number | null = null, maxImages: number | null = null): Promise<string> => {
      const id = newId();
      await repo.accounts.addUser({ id, name: userName, quotaBytes, maxImages, createdAt: new Date(1_700_000_000_000) });
      return id;
    };

    it('keeps users by name, unique, with limits set one at a time and lifted with null', async () => {
      const bob = await addUser('bob', 5_000_000_000, 10);
      const alice = await addUser('alice');
      assert.deepEqual((await repo.accounts.users()).map((u) => u.name), ['alice', 'bob']);
      assert.deepEqual(await repo.accounts.userByName('bob'),
        { id: bob, name: 'bob', quotaBytes: 5_000_000_000, maxImages: 10, createdAt: new Date(1_700_000_000_000) });
      assert.equal((await repo.accounts.user(alice))?.name, 'alice');
      assert.equal(await repo.accounts.userByName('carol'), null);
      await assert.rejects(addUser('bob'));
      await repo.accounts.setLimits(bob, { quotaBytes: null });
      assert.deepEqual(await repo.accounts.user(bob).then((u) => [u?.quotaBytes, u?.maxImages]), [null, 10]);
      await repo.accounts.setLimits(bob, { maxImages: null, quotaBytes: 7 });
      assert.deepEqual(await repo.accounts.user(bob).then((u) => [u?.quotaBytes, u?.maxImages]), [7, null]);
    });

    it('finds a key\'s user by its hash and notes its use; revoked or unknown keys find no one', async () => {
      const alice = await addUser('alice');
      const bob = await addUser('bob');
      const [one, two, three] = [newId(), newId(), newId()];
      for (const [id, userId, label] of [[one, alice, 'laptop'], [two, alice, null], [three, bob, 'ci']] as const) {
        await repo.accounts.addKey({ id, userId, keyHash: hash(id), label, createdAt: new Date() });
      }
      assert.equal((await repo.accounts.findKey(hash(one)))?.id, alice);
      assert.equal(await repo.accounts.findKey(hash('no such key')), null);
      const keys = await repo.accounts.keys(alice);
      assert.deepEqual(keys.map((k) => [k.id, k.userName, k.label]).sort(), [[one, 'alice', 'laptop'], [two, 'alice', null]].sort());
      assert.ok(keys.find((k) => k.id === one)?.lastUsedAt instanceof Date, 'used');
      assert.equal(keys.find((k) => k.id === two)?.lastUsedAt, null, 'never used');
      assert.equal((await repo.accounts.keys()).length, 3);
      assert.equal(await repo.accounts.revokeKey(one), true);
      assert.equal(await repo.accounts.revokeKey(one), false);
      assert.equal(await repo.accounts.findKey(hash(one)), null);
    });

    it('counts usage over a user\'s records, pending or ready, each in full even with shared bytes; thumbnails not', async () => {
      const alice = await addUser('alice');
      await ready(repo, image({ owner: alice }, 'shared'));
      await ready(repo, image({ owner: alice }, 'shared'));
      await repo.insertPending(image({ owner: alice }));
      await ready(repo, image());
      assert.deepEqual(await repo.accounts.usage(alice), { bytes: 3 * 12345, images: 3 });
      assert.deepEqual(await repo.accounts.usage(newId()), { bytes: 0, images: 0 });
    });

    it('inserts an owned record only within its owner\'s quota, exactly at the limit included', async () => {
      const alice = await addUser('alice', 2 * 12345, 3);
      await ready(repo, image({ owner: alice }));
      await repo.insertPending(image({ owner: alice }));
      const over = image({ owner: alice, orig: { hash: hash('one byte'), bytes: 1, mime: 'image/png' } });
      await assert.rejects(repo.insertPending(over), (err: unknown) => refusal(413, 'QUOTA_EXCEEDED')(err)
        && /24 KiB of 24 KiB used; this file is 1 B/.test((err as Error).message));
      assert.equal(await repo.isReferenced(over.orig.hash), false, 'nothing inserted');
      await repo.accounts.setLimits(alice, { quotaBytes: null });
      await repo.insertPending(over);
      await assert.rejects(repo.insertPending(image({ owner: alice })), (err: unknown) => refusal(413, 'QUOTA_EXCEEDED')(err)
        && /3 of 3 images stored/.test((err as Error).message));
      await assert.rejects(repo.insertPending(image({ owner: newId() })), refusal(401, 'WRONG_UPLOAD_TOKEN'));
      await repo.insertPending(image());
    });

    it('pages through a user\'s ready images newest first, unlisted ones included', async () => {
      const alice = await addUser('alice');
      const mine = [];
      for (let i = 0; i < 5; i++) mine.unshift((await ready(repo, image({ owner: alice, unlisted: i === 1 }))).id);
      await repo.insertPending(image({ owner: alice }));
      await ready(repo, image());
      const first = await repo.accounts.imagesOf(alice, 3);
      const rest = await repo.accounts.imagesOf(alice, 3, first.at(-1)?.seq);
      assert.deepEqual([...first, ...rest].map((r) => r.id), mine);
      assert.equal(rest.length, 2);
    });

    it('removes a user with their keys, leaving their images anonymous', async () => {
      const alice = await addUser('alice');
      const key = newId();
      await repo.accounts.addKey({ id: key, userId: alice, keyHash: hash(key), label: null, createdAt: new Date() });
      const img = await ready(repo, image({ owner: alice }));
      const pending = image({ owner: alice });
      await repo.insertPending(pending);
      await ready(repo, image());
      assert.equal(await repo.accounts.hasUsers(), true);
      const disowned = await repo.accounts.removeUser(alice);
      assert.deepEqual(disowned.map((r) => r.id).sort(), [img.id, pending.id].sort(), 'their images, pending ones included, are handed back');
      assert.equal(await repo.accounts.hasUsers(), false);
      assert.equal(await repo.accounts.user(alice), null);
      assert.equal(await repo.accounts.findKey(hash(key)), null);
      assert.equal(await repo.accounts.revokeKey(key), false, 'the key is gone, not only unreachable');
      assert.equal((await repo.get(img.id))?.owner, null);
    });
  });
}

describe('PostgresRepo: removing a user while an upload of theirs holds their row', () => {
  it('waits for that upload, then disowns its image too: no image names a user who is gone', async () => {
    const url = await postgres.createDatabase();
    const repo = await PostgresRepo.open(url, { poolSize: 3, timeoutMs: 5000 });
    const pool = new pg.Pool({ connectionString: url, max: 1 });
    try {
      const alice = newId();
      await repo.accounts.addUser({ id: alice, name: 'alice', quotaBytes: null, maxImages: null, createdAt: new Date() });
      const upload = await pool.connect();
      // What an owned insertPending does: lock the owner's row, then insert, then commit.
      await upload.query('BEGIN');
      await upload.query('SELECT id FROM users WHERE id = $1 FOR UPDATE', [alice]);
      const removing = repo.accounts.removeUser(alice);
      await setTimeout(300);
      const racing = image({ owner: alice });
      await upload.query(`INSERT INTO images (${INSERT_COLUMNS}, ready) VALUES (${insertPlaceholders((n) => `$${String(n)}`)}, true)`,
        insertValues(racing, (date) => date, (flag) => flag));
      await upload.query('COMMIT');
      upload.release();
      assert.deepEqual((await removing).map((r) => r.id), [racing.id]);
      assert.equal((await repo.get(racing.id))?.owner, null);
    } finally {
      await Promise.all([repo.close(), pool.end()]);
    }
  });
});

describe('SqliteRepo: the quota\'s sum', () => {
  it('reads only an index, however many images the user has', async () => {
    const path = join(dir, 'plan.db');
    await new SqliteRepo(path).close();
    const db = new Database(path, { readonly: true });
    try {
      const plan = db.prepare<[string], { detail: string }>(
        'EXPLAIN QUERY PLAN SELECT COALESCE(SUM(orig_bytes), 0) AS bytes, COUNT(*) AS images FROM images WHERE owner_id = ?').all('someone');
      assert.deepEqual(plan.map((row) => row.detail), ['SEARCH images USING COVERING INDEX images_owner_bytes (owner_id=?)']);
    } finally {
      db.close();
    }
  });
});

accountContract('SqliteRepo', () => Promise.resolve(new SqliteRepo(join(dir, `${randomBytes(4).toString('hex')}.db`))));
accountContract('PostgresRepo', async () => PostgresRepo.open(await postgres.createDatabase(), { poolSize: 3, timeoutMs: 5000 }));
