// What every VisibilityRepo adapter must do, on a real SQLite file and a real PostgreSQL: the
// public listing leaves out unlisted, expired and view-limited images; countView admits exactly
// max_views calls however many come at once; the last view brings the expiry to a minute away;
// removeExpired takes only ready images past their expiry, a batch at a time, and records them as
// ended. Plus SQLite's record cache, which must
// not keep an expiry the last view moved.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import type { ImageRepo } from '../../src/repo/index.js';
import { PostgresRepo } from '../../src/repo/postgres.js';
import { SqliteRepo } from '../../src/repo/sqlite.js';
import { LAST_VIEW_GRACE_MS } from '../../src/repo/visibility.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { tempDir } from '../helpers/server.js';
import { image, ready } from './contract.js';

let dir: string;
let postgres: TestPostgres;
before(async () => { [dir, postgres] = await Promise.all([tempDir('imghost-visibility-'), startPostgres()]); });
after(() => Promise.all([rm(dir, { recursive: true, force: true }), postgres.stop()]));

const sqlitePath = (): string => join(dir, `${randomBytes(4).toString('hex')}.db`);
const ids = (records: readonly { id: string }[]): string[] => records.map((r) => r.id);
const past = () => new Date(Date.now() - 1000);
const future = () => new Date(Date.now() + 3_600_000);

function visibilityContract(name: string, open: () => Promise<ImageRepo>): void {
  describe(`${name}: the VisibilityRepo contract`, () => {
    let repo: ImageRepo;
    beforeEach(async () => { repo = await open(); });
    afterEach(() => repo.close());

    it('lists, newest first, only the listed images that neither expired nor have a view limit', async () => {
      const plain = await ready(repo, image());
      const expiring = await ready(repo, image({ expiresAt: future() }));
      await ready(repo, image({ unlisted: true }));
      await ready(repo, image({ expiresAt: past() }));
      await ready(repo, image({ maxViews: 5 }));
      await repo.insertPending(image());
      assert.deepEqual(ids(await repo.visibility.listed(10)), [expiring.id, plain.id]);
      const [first] = await repo.visibility.listed(1);
      assert.deepEqual(ids(await repo.visibility.listed(10, (await repo.get(first?.id ?? ''))?.seq)), [plain.id]);
      assert.equal((await repo.list(10)).length, 5, 'list still has every ready image (backup, verify)');
    });

    it('admits exactly max_views of many concurrent views, then none', async () => {
      const limited = await ready(repo, image({ maxViews: 3 }));
      const admitted = await Promise.all(Array.from({ length: 20 }, () => repo.visibility.countView(limited.id)));
      assert.equal(admitted.filter(Boolean).length, 3);
      assert.equal(await repo.visibility.countView(limited.id), false);
      assert.equal(await repo.visibility.viewsUsedUp(limited.id), true);
    });

    it('tells an image with views left, or without a limit, from one used up', async () => {
      const limited = await ready(repo, image({ maxViews: 2 }));
      const unlimited = await ready(repo, image());
      assert.equal(await repo.visibility.countView(limited.id), true);
      assert.equal(await repo.visibility.viewsUsedUp(limited.id), false);
      assert.equal(await repo.visibility.countView(unlimited.id), true);
      assert.equal(await repo.visibility.viewsUsedUp(unlimited.id), false);
    });

    it('admits no view of a pending, expired or missing image', async () => {
      const pending = image({ maxViews: 2 });
      await repo.insertPending(pending);
      const expired = await ready(repo, image({ maxViews: 2, expiresAt: past() }));
      assert.equal(await repo.visibility.countView(pending.id), false);
      assert.equal(await repo.visibility.countView(expired.id), false);
      assert.equal(await repo.visibility.countView('nosuchimage0'), false);
    });

    it('brings the expiry to a minute after the last view, never later than it was', async () => {
      const limited = await ready(repo, image({ maxViews: 1 }));
      const soon = new Date(Date.now() + 5000);
      const early = await ready(repo, image({ maxViews: 1, expiresAt: soon }));
      const before = Date.now();
      assert.equal(await repo.visibility.countView(limited.id), true);
      assert.equal(await repo.visibility.countView(early.id), true);
      const moved = (await repo.get(limited.id))?.expiresAt?.getTime() ?? 0;
      assert.ok(moved >= before + LAST_VIEW_GRACE_MS - 1000 && moved <= Date.now() + LAST_VIEW_GRACE_MS + 1000, String(moved));
      assert.equal((await repo.get(early.id))?.expiresAt?.getTime(), soon.getTime());
    });

    it('removes and returns only the ready images past their expiry', async () => {
      const gone = await ready(repo, image({ expiresAt: past() }));
      const kept = await ready(repo, image({ expiresAt: future() }));
      const pending = image({ expiresAt: past() });
      await repo.insertPending(pending);
      assert.deepEqual(ids(await repo.visibility.removeExpired(10)), [gone.id]);
      assert.deepEqual(await repo.visibility.removeExpired(10), []);
      assert.equal(await repo.get(gone.id), null);
      assert.equal((await repo.get(kept.id))?.id, kept.id);
      assert.equal(await repo.isReferenced(pending.orig.hash), true, 'a pending upload is left to its lease');
    });

    it('removes expired images a batch at a time, each removed once', async () => {
      const expired = new Set<string>();
      for (let i = 0; i < 5; i++) expired.add((await ready(repo, image({ expiresAt: past() }))).id);
      const kept = await ready(repo, image({ expiresAt: future() }));
      const batches = [await repo.visibility.removeExpired(2), await repo.visibility.removeExpired(2), await repo.visibility.removeExpired(2)];
      assert.deepEqual(batches.map((batch) => batch.length), [2, 2, 1]);
      assert.deepEqual(new Set(batches.flatMap(ids)), expired);
      assert.deepEqual(await repo.visibility.removeExpired(2), []);
      assert.equal((await repo.get(kept.id))?.id, kept.id);
    });

    it('records each image it removes as ended, and whether its views were used up', async () => {
      const expired = await ready(repo, image({ expiresAt: past() }));
      const viewed = await ready(repo, image({ maxViews: 2, expiresAt: past() }));
      await repo.visibility.carryViews(viewed.id, 2);
      const kept = await ready(repo, image({ expiresAt: future() }));
      assert.equal(await repo.visibility.ended(expired.id), null, 'not before it is removed');
      await repo.visibility.removeExpired(10);
      assert.deepEqual(await repo.visibility.ended(expired.id), { id: expired.id, viewsUsedUp: false });
      assert.deepEqual(await repo.visibility.ended(viewed.id), { id: viewed.id, viewsUsedUp: true });
      assert.equal(await repo.visibility.ended(kept.id), null);
      assert.equal(await repo.remove(kept.id), true);
      assert.equal(await repo.visibility.ended(kept.id), null, 'a deleted image is not ended');
      assert.equal((await repo.visibility.endedImages()).length, 2);
      assert.equal(await repo.visibility.copyEnded({ id: 'copiedended', viewsUsedUp: true }), true);
      assert.equal(await repo.visibility.copyEnded({ id: 'copiedended', viewsUsedUp: true }), false);
      assert.deepEqual(await repo.visibility.ended('copiedended'), { id: 'copiedended', viewsUsedUp: true });
    });
  });
}

visibilityContract('SqliteRepo', () => Promise.resolve(new SqliteRepo(sqlitePath())));
visibilityContract('PostgresRepo', async () => PostgresRepo.open(await postgres.createDatabase(), { poolSize: 5, timeoutMs: 5000 }));

describe('SqliteRepo record cache and views', () => {
  it('serves the expiry the last view moved, after caching the record', async () => {
    const repo = new SqliteRepo(sqlitePath());
    try {
      const limited = await ready(repo, image({ maxViews: 1 }));
      assert.equal((await repo.get(limited.id))?.expiresAt, null);
      assert.equal(await repo.visibility.countView(limited.id), true);
      assert.notEqual((await repo.get(limited.id))?.expiresAt, null);
    } finally {
      await repo.close();
    }
  });
});
