// A view-limited image copied to new storage keeps the views it was served: migrate-db (to SQLite
// and to PostgreSQL) and backup leave the copy exactly the views that were left, not the whole
// limit again; and migrate-db carries the images the sweep removed, whose links answer 410.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { migrateDb } from '../src/migrate.js';
import type { ImageRepo } from '../src/repo/index.js';
import { PostgresRepo } from '../src/repo/postgres.js';
import { SqliteRepo } from '../src/repo/sqlite.js';
import { runCli } from './helpers/cli.js';
import { formBody } from './helpers/form.js';
import { photo } from './helpers/images.js';
import { startPostgres, type TestPostgres } from './helpers/postgres.js';
import { startTestServer, tempDir, type UploadedImage } from './helpers/server.js';
import { image, ready } from './repo/contract.js';

/** How many of `tries` views the repository admits. */
async function admitted(repo: ImageRepo, id: string, tries: number): Promise<number> {
  let count = 0;
  for (let i = 0; i < tries; i++) if (await repo.visibility.countView(id)) count++;
  return count;
}

describe('copying a view-limited image', () => {
  let dir: string;
  let postgres: TestPostgres;
  before(async () => { [dir, postgres] = await Promise.all([tempDir('imghost-migrate-views-'), startPostgres()]); });
  after(() => Promise.all([rm(dir, { recursive: true, force: true }), postgres.stop()]));

  const destinations: [string, () => Promise<ImageRepo>][] = [
    ['SQLite', () => Promise.resolve(new SqliteRepo(join(dir, 'to.db')))],
    ['PostgreSQL', async () => PostgresRepo.open(await postgres.createDatabase(), { poolSize: 2, timeoutMs: 5000 })],
  ];
  for (const [name, openDestination] of destinations) {
    it(`migrate-db to ${name} carries the views served: the copy serves only those left, and a later run the ones served since`, async () => {
      const from = new SqliteRepo(join(dir, `from-${name}.db`));
      const to = await openDestination();
      try {
        const limited = await ready(from, image({ maxViews: 3 }));
        const other = await ready(from, image({ maxViews: 3 }));
        const unlimited = await ready(from, image());
        const ended = await ready(from, image({ expiresAt: new Date(Date.now() - 1000) }));
        await from.visibility.removeExpired(10);
        assert.equal(await admitted(from, limited.id, 2), 2);
        assert.equal(await admitted(from, unlimited.id, 2), 2);
        assert.equal((await migrateDb(from, to)).ended, 1);
        assert.deepEqual(await to.visibility.ended(ended.id), { id: ended.id, viewsUsedUp: false }, 'its links still answer 410');
        assert.equal(await to.visibility.views(limited.id), 2);
        assert.equal(await admitted(to, limited.id, 3), 1, 'one view was left');

        // Served once more at the source, then copied again (skipped, being there): not served again.
        assert.equal(await admitted(from, other.id, 1), 1);
        const again = await migrateDb(from, to);
        assert.deepEqual([again.skipped, again.ended], [3, 0]);
        assert.equal(await to.visibility.views(other.id), 1);
        assert.equal(await admitted(to, other.id, 5), 2);
        assert.equal(await to.visibility.views(limited.id), 3, 'a copy never counts fewer views than it had');
      } finally {
        await Promise.all([from.close(), to.close()]);
      }
    });
  }

  it('backup and restore carry the views served', async () => {
    const dataDir = await tempDir(), backupDir = await tempDir(), restoredDir = await tempDir();
    try {
      const s = await startTestServer({ data_dir: dataDir });
      let image: UploadedImage;
      try {
        const res = await s.fetch('/api/images', { method: 'POST', body: formBody({ max_views: '3' }, [{ data: await photo(70, 50), filename: 'v.jpg', type: 'image/jpeg' }]) });
        assert.equal(res.status, 201);
        image = await res.json() as UploadedImage;
        for (let i = 0; i < 2; i++) assert.equal((await s.fetch(image.url)).status, 200);
      } finally {
        await s.close();
      }
      await rm(backupDir, { recursive: true }); await rm(restoredDir, { recursive: true });
      const backup = await runCli(['backup', `--data_dir=${dataDir}`, `--to=${backupDir}`]);
      assert.equal(backup.code, 0, backup.stderr);
      const restore = await runCli(['restore', `--from=${backupDir}`, `--data_dir=${restoredDir}`]);
      assert.equal(restore.code, 0, restore.stderr);
      const restored = await startTestServer({ data_dir: restoredDir });
      try {
        assert.deepEqual([(await restored.fetch(image.url)).status, (await restored.fetch(image.url)).status], [200, 410]);
      } finally {
        await restored.close();
      }
    } finally {
      await Promise.all([dataDir, backupDir, restoredDir].map((d) => rm(d, { recursive: true, force: true })));
    }
  });
});
