// What every IntegrityRepo adapter must find, on a real SQLite file and a real PostgreSQL: the
// records that break a rule the server keeps (imghost verify), and only those.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { ImageRepo } from '../../src/repo/index.js';
import { PostgresRepo } from '../../src/repo/postgres.js';
import { SqliteRepo } from '../../src/repo/sqlite.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { tempDir } from '../helpers/server.js';
import { image, ready } from './contract.js';

let dir: string;
let postgres: TestPostgres;
before(async () => { [dir, postgres] = await Promise.all([tempDir('imghost-integrity-'), startPostgres()]); });
after(() => Promise.all([rm(dir, { recursive: true, force: true }), postgres.stop()]));

interface Opened {
  repo: ImageRepo;
  /** Runs one statement behind the repository's back (`?` placeholders), as a hand edit would. */
  edit(sql: string, ...values: unknown[]): Promise<void>;
  /** A time as the dialect stores it. */
  time(date: Date): unknown;
  close(): Promise<void>;
}

function integrityContract(name: string, open: () => Promise<Opened>): void {
  describe(`${name}: the IntegrityRepo contract`, () => {
    let db: Opened;
    beforeEach(async () => { db = await open(); });
    afterEach(() => db.close());

    it('finds owners who are no users, and makes their images anonymous', async () => {
      const { repo } = db;
      await repo.accounts.addUser({ id: 'u-alice', name: 'alice', quotaBytes: null, maxImages: null, createdAt: new Date() });
      const owned = await ready(repo, image({ owner: 'u-alice' }));
      const orphan = await ready(repo, image());
      const anonymous = await ready(repo, image());
      await db.edit('UPDATE images SET owner_id = ? WHERE id = ?', 'u-gone', orphan.id);
      assert.deepEqual(await repo.integrity.danglingOwners(), [{ id: orphan.id, owner: 'u-gone' }]);
      assert.equal(await repo.integrity.disownDangling(), 1);
      assert.equal((await repo.get(orphan.id))?.owner, null);
      assert.equal((await repo.get(owned.id))?.owner, 'u-alice');
      assert.equal((await repo.get(anonymous.id))?.owner, null);
      assert.deepEqual(await repo.integrity.danglingOwners(), []);
    });

    it('finds records, pending or ready, of bytes taken down', async () => {
      const { repo } = db;
      const live = await ready(repo, image({}, 'refused'));
      const pending = image({}, 'refused');
      await repo.insertPending(pending);
      await ready(repo, image());
      assert.deepEqual(await repo.integrity.refusedOriginals(), []);
      await db.edit('INSERT INTO takedowns (hash, reason, created_at) VALUES (?, NULL, ?)', live.orig.hash, db.time(new Date()));
      assert.deepEqual(await repo.integrity.refusedOriginals(), [{ id: live.id, hash: live.orig.hash }, { id: pending.id, hash: live.orig.hash }]);
    });

    it('finds records counted past their view limit, and ready ones expired before a time', async () => {
      const { repo } = db;
      const over = await ready(repo, image({ maxViews: 2 }));
      const atLimit = await ready(repo, image({ maxViews: 2 }));
      await db.edit('UPDATE images SET views = ? WHERE id = ?', 3, over.id);
      await db.edit('UPDATE images SET views = ? WHERE id = ?', 2, atLimit.id);
      assert.deepEqual(await repo.integrity.overViewed(), [{ id: over.id, views: 3, maxViews: 2 }]);
      const now = Date.now();
      const old = await ready(repo, image({ expiresAt: new Date(now - 7_200_000) }));
      await ready(repo, image({ expiresAt: new Date(now - 600_000) }));
      await repo.insertPending(image({ expiresAt: new Date(now - 7_200_000) }));
      assert.deepEqual(await repo.integrity.expiredBefore(new Date(now - 3_600_000)), [{ id: old.id, expiresAt: old.expiresAt }]);
    });
  });
}

integrityContract('SqliteRepo', () => {
  const path = join(dir, `${randomBytes(4).toString('hex')}.db`);
  const repo = new SqliteRepo(path);
  const side = new Database(path);
  return Promise.resolve({
    repo,
    edit: (sql, ...values) => { side.prepare(sql).run(...values); return Promise.resolve(); },
    time: (date) => date.getTime(),
    close: async () => { side.close(); await repo.close(); },
  });
});

integrityContract('PostgresRepo', async () => {
  const url = await postgres.createDatabase();
  const repo = await PostgresRepo.open(url, { poolSize: 2, timeoutMs: 5000 });
  const side = new pg.Client({ connectionString: url });
  await side.connect();
  return {
    repo,
    edit: async (sql, ...values) => {
      let n = 0;
      await side.query(sql.replace(/\?/g, () => `$${String(++n)}`), values);
    },
    time: (date) => date,
    close: async () => { await side.end(); await repo.close(); },
  };
});
