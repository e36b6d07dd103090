// migrate-db carries users, their API keys (as hashes) and the ownership of their images, from
// SQLite to PostgreSQL, once: the keys work on the copy, and a user over a quota lowered since
// keeps every image.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { newId } from '../src/ids.js';
import { migrateDb } from '../src/migrate.js';
import { PostgresRepo } from '../src/repo/postgres.js';
import { SqliteRepo } from '../src/repo/sqlite.js';
import { startPostgres, type TestPostgres } from './helpers/postgres.js';
import { tempDir } from './helpers/server.js';
import { hash, image, ready } from './repo/contract.js';

describe('migrate-db and accounts', () => {
  let pg: TestPostgres;
  let dir: string;
  before(async () => { [pg, dir] = await Promise.all([startPostgres(), tempDir('imghost-migrate-accounts-')]); });
  after(() => Promise.all([pg.stop(), rm(dir, { recursive: true, force: true })]));

  it('copies users, keys and owned images, whatever the quotas say now, and nothing twice', async () => {
    const from = new SqliteRepo(join(dir, 'from.db'));
    const to = await PostgresRepo.open(await pg.createDatabase(), { poolSize: 2, timeoutMs: 5000 });
    try {
      const [alice, bob] = [newId(), newId()];
      await from.accounts.addUser({ id: alice, name: 'alice', quotaBytes: null, maxImages: 10, createdAt: new Date(1_700_000_000_000) });
      await from.accounts.addUser({ id: bob, name: 'bob', quotaBytes: 1_000_000, maxImages: null, createdAt: new Date(1_700_000_001_000) });
      for (const [id, user] of [['key-a', alice], ['key-b', bob]] as const) {
        await from.accounts.addKey({ id, userId: user, keyHash: hash(id), label: id === 'key-a' ? 'laptop' : null, createdAt: new Date(1_700_000_002_000) });
      }
      assert.ok(await from.accounts.findKey(hash('key-a')), 'alice\'s key has a last use');
      for (let i = 0; i < 3; i++) await ready(from, image({ owner: alice }));
      await ready(from, image());
      await from.accounts.setLimits(alice, { quotaBytes: 100 });

      const result = await migrateDb(from, to);
      assert.deepEqual([result.copied, result.accounts], [4, { users: 2, keys: 2 }]);
      assert.deepEqual(await to.accounts.users(), await from.accounts.users());
      assert.deepEqual(await to.accounts.storedKeys(), await from.accounts.storedKeys());
      assert.deepEqual(await to.accounts.usage(alice), { bytes: 3 * 12345, images: 3 });
      assert.equal((await to.accounts.findKey(hash('key-b')))?.name, 'bob', 'the key works on the copy');

      const again = await migrateDb(from, to);
      assert.deepEqual([again.copied, again.skipped, again.accounts], [0, 4, { users: 0, keys: 0 }]);
      assert.equal((await to.accounts.keys()).length, 2);
    } finally {
      await Promise.all([from.close(), to.close()]);
    }
  });

  it('refuses, copying no record, when the destination has another user of the same name', async () => {
    const from = new SqliteRepo(join(dir, 'same-name.db'));
    const to = await PostgresRepo.open(await pg.createDatabase(), { poolSize: 2, timeoutMs: 5000 });
    try {
      const [theirs, ours] = [newId(), newId()];
      await from.accounts.addUser({ id: theirs, name: 'carol', quotaBytes: null, maxImages: null, createdAt: new Date() });
      await to.accounts.addUser({ id: ours, name: 'carol', quotaBytes: null, maxImages: null, createdAt: new Date() });
      await ready(from, image({ owner: theirs }));
      await ready(from, image());
      await assert.rejects(migrateDb(from, to), /the destination has another user named 'carol' \(a different id\)/);
      assert.deepEqual(await to.list(10), [], 'no record names an owner the destination does not have');
      assert.deepEqual((await to.accounts.users()).map((u) => u.id), [ours]);
    } finally {
      await Promise.all([from.close(), to.close()]);
    }
  });
});
