// What every TakedownRepo adapter must do, on a real SQLite file and a real PostgreSQL: a takedown
// removes every record of an original at once and remembers it; undo gives the bytes back; the
// audit log keeps both. Plus SQLite's record cache, which must not serve a removed record.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import pg from 'pg';
import type { ImageRepo } from '../../src/repo/index.js';
import { PostgresRepo } from '../../src/repo/postgres.js';
import { SqliteRepo } from '../../src/repo/sqlite.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { tempDir } from '../helpers/server.js';
import { image, ready } from './contract.js';

let dir: string;
let postgres: TestPostgres;
before(async () => { [dir, postgres] = await Promise.all([tempDir('imghost-takedowns-'), startPostgres()]); });
after(() => Promise.all([rm(dir, { recursive: true, force: true }), postgres.stop()]));

const sqlitePath = (): string => join(dir, `${randomBytes(4).toString('hex')}.db`);
const ids = (records: readonly { id: string }[]): string[] => records.map((r) => r.id).sort();

function takedownContract(name: string, open: () => Promise<ImageRepo>): void {
  describe(`${name}: the TakedownRepo contract`, () => {
    let repo: ImageRepo;
    beforeEach(async () => { repo = await open(); });
    afterEach(() => repo.close());

    it('removes every record of the original, pending or ready, at once, and nothing else', async () => {
      const a = await ready(repo, image({}, 'shared'));
      const b = await ready(repo, image({}, 'shared'));
      const pending = image({}, 'shared');
      await repo.insertPending(pending);
      const other = await ready(repo, image());
      const removed = await repo.takedowns.takeDown(a.orig.hash, 'abuse report #12');
      assert.deepEqual(ids(removed ?? []), ids([a, b, pending]));
      assert.deepEqual(removed?.find((r) => r.id === a.id)?.thumb, a.thumb, 'whole records, to release their blobs');
      assert.equal(await repo.get(a.id), null);
      assert.equal(await repo.get(b.id), null);
      assert.equal(await repo.markReady(pending.id), false, 'an upload in flight loses its record');
      assert.equal(await repo.isReferenced(a.orig.hash), false);
      assert.deepEqual(ids(await repo.list(10)), [other.id]);
    });

    it('refuses the hash and names the takedown of each id it removed', async () => {
      const a = await ready(repo, image({}, 'refused'));
      const other = await ready(repo, image());
      await repo.takedowns.takeDown(a.orig.hash, 'abuse report #12');
      assert.equal(await repo.takedowns.isRefused(a.orig.hash), true);
      assert.equal(await repo.takedowns.isRefused(other.orig.hash), false);
      assert.deepEqual(await repo.takedowns.removedBy(a.id), { hash: a.orig.hash, reason: 'abuse report #12' });
      assert.equal(await repo.takedowns.removedBy(other.id), null);
    });

    it('writes nothing for an original no record has', async () => {
      assert.equal(await repo.takedowns.takeDown(image().orig.hash, 'typo'), null);
      assert.deepEqual(await repo.takedowns.list(), []);
      assert.deepEqual(await repo.takedowns.log(), []);
    });

    it('taken down again, removes the records stored since, keeps its time, and its reason unless given a new one', async () => {
      const a = await ready(repo, image({}, 'again'));
      await repo.takedowns.takeDown(a.orig.hash, 'first reason');
      const [first] = await repo.takedowns.list();
      const late = await ready(repo, image({}, 'again'));
      assert.deepEqual(ids(await repo.takedowns.takeDown(a.orig.hash, null) ?? []), [late.id]);
      assert.deepEqual(await repo.takedowns.takeDown(a.orig.hash, 'second reason'), []);
      assert.deepEqual(await repo.takedowns.list(), [{ hash: a.orig.hash, reason: 'second reason', createdAt: first?.createdAt, images: 2 }]);
      assert.deepEqual((await repo.takedowns.log()).map((e) => [e.action, e.images, e.reason]),
        [['takedown', 1, 'first reason'], ['takedown', 1, null], ['takedown', 0, 'second reason']]);
    });

    it('undo lifts the refusal and forgets the removed ids, once; the log keeps both, oldest first', async () => {
      const a = await ready(repo, image({}, 'undone'));
      const b = await ready(repo, image({}, 'undone'));
      await repo.takedowns.takeDown(a.orig.hash, 'mistake');
      assert.equal(await repo.takedowns.undo(a.orig.hash, 'wrong file'), 2);
      assert.equal(await repo.takedowns.isRefused(a.orig.hash), false);
      assert.equal(await repo.takedowns.removedBy(b.id), null);
      assert.deepEqual(await repo.takedowns.list(), []);
      assert.equal(await repo.takedowns.undo(a.orig.hash, null), null);
      const log = await repo.takedowns.log();
      assert.deepEqual(log.map((e) => [e.action, e.hash, e.images, e.reason]),
        [['takedown', a.orig.hash, 2, 'mistake'], ['undo', a.orig.hash, 2, 'wrong file']]);
      assert.ok(log[0] && log[1] && log[0].seq < log[1].seq && log[0].at <= log[1].at);
      assert.ok(log[0].at instanceof Date && Math.abs(log[0].at.getTime() - Date.now()) < 60_000);
    });

    it('copies a takedown of another store with its ids, and its log entries, once each (migrate-db)', async () => {
      const source = new SqliteRepo(sqlitePath());
      try {
        const a = await ready(source, image({}, 'copied'));
        await source.takedowns.takeDown(a.orig.hash, 'abuse report');
        const [takedown] = await source.takedowns.list();
        assert.ok(takedown);
        const ids = await source.takedowns.removedIds(a.orig.hash);
        assert.deepEqual(ids, [a.id]);
        assert.equal(await repo.takedowns.copy(takedown, ids), true);
        assert.equal(await repo.takedowns.copy({ ...takedown, reason: 'other' }, ids), false);
        assert.deepEqual(await repo.takedowns.list(), [takedown]);
        assert.deepEqual(await repo.takedowns.removedBy(a.id), { hash: a.orig.hash, reason: 'abuse report' });
        const [entry] = await source.takedowns.log();
        assert.ok(entry);
        assert.equal(await repo.takedowns.copyLogEntry(entry), true);
        assert.equal(await repo.takedowns.copyLogEntry(entry), false);
        assert.deepEqual(await repo.takedowns.log(), [entry]);
      } finally {
        await source.close();
      }
    });

    it('lists the takedowns in force newest first, each with the records it removed', async () => {
      const old = await ready(repo, image());
      await repo.takedowns.takeDown(old.orig.hash, null);
      await new Promise((resolve) => setTimeout(resolve, 5));
      const young = await ready(repo, image({}, 'young'));
      await ready(repo, image({}, 'young'));
      await repo.takedowns.takeDown(young.orig.hash, 'spam');
      assert.deepEqual((await repo.takedowns.list()).map((t) => [t.hash, t.images, t.reason]),
        [[young.orig.hash, 2, 'spam'], [old.orig.hash, 1, null]]);
    });
  });
}

takedownContract('SqliteRepo', () => Promise.resolve(new SqliteRepo(sqlitePath())));
takedownContract('PostgresRepo', async () => PostgresRepo.open(await postgres.createDatabase(), { poolSize: 3, timeoutMs: 5000 }));

describe('SqliteRepo record cache and takedowns', () => {
  it('serves no record a takedown removed, by this connection or another process', async () => {
    const path = sqlitePath();
    const server = new SqliteRepo(path);
    const cli = new SqliteRepo(path);
    try {
      const mine = await ready(server, image({}, 'cached-here'));
      const theirs = await ready(server, image({}, 'cached-there'));
      assert.ok(await server.get(mine.id));
      assert.ok(await server.get(theirs.id), 'both cached');
      await server.takedowns.takeDown(mine.orig.hash, null);
      assert.equal(await server.get(mine.id), null);
      await cli.takedowns.takeDown(theirs.orig.hash, null);
      assert.equal(await server.get(theirs.id), null);
    } finally {
      await Promise.all([server.close(), cli.close()]);
    }
  });
});

describe('PostgresRepo: a takedown racing an upload of the same bytes', () => {
  it('removes a pending record committed while it runs, when the upload\'s look at the refusals came first', async () => {
    const url = await postgres.createDatabase();
    const repo = await PostgresRepo.open(url, { poolSize: 3, timeoutMs: 5000 });
    const blocker = new pg.Client({ connectionString: url });
    await blocker.connect();
    try {
      const earlier = await ready(repo, image({}, 'raced'));
      // The takedown is held on its audit log entry, after whatever it ran before that.
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE takedown_log IN EXCLUSIVE MODE');
      const takedown = repo.takedowns.takeDown(earlier.orig.hash, 'raced');
      while ((await blocker.query('SELECT 1 FROM pg_locks WHERE NOT granted')).rowCount === 0) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      // An upload of the same bytes commits its pending record, then looks at the refusals again
      // (src/ingest.ts) before the takedown has committed anything: it sees none and goes on.
      const upload = image({}, 'raced');
      await repo.insertPending(upload);
      assert.equal(await repo.takedowns.isRefused(upload.orig.hash), false);
      await blocker.query('COMMIT');
      assert.deepEqual(ids(await takedown ?? []), ids([earlier, upload]));
      assert.equal(await repo.markReady(upload.id), false, 'the upload cannot be made visible');
      assert.equal(await repo.isReferenced(upload.orig.hash), false);
      assert.deepEqual(await repo.takedowns.removedBy(upload.id), { hash: upload.orig.hash, reason: 'raced' });
      assert.deepEqual((await repo.takedowns.log()).map((e) => [e.action, e.images]), [['takedown', 2]]);
    } finally {
      await blocker.end();
      await repo.close();
    }
  });
});
