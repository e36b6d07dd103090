// `imghost migrate-store` and `migrate-db`: a library copied to new storage is served whole,
// variants included (with no new encode), a second run copies nothing, an interrupted run
// resumes, and a damaged blob is reported.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir, rm, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { migrateDb } from '../src/migrate.js';
import { SqliteRepo } from '../src/repo/sqlite.js';
import { runCli } from './helpers/cli.js';
import { photo, solid } from './helpers/images.js';
import { startTestServer, tempDir, type UploadedImage } from './helpers/server.js';
import { image, ready } from './repo/contract.js';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

async function blobPaths(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile() && /^[0-9a-f]{64}$/.test(e.name)).map((e) => join(e.parentPath, e.name));
}

describe('migrating a library to new storage', () => {
  let oldDir: string;
  let newDir: string;
  const originals = new Map<string, Buffer>();
  let images: UploadedImage[] = [];
  /** A variant made before the migration (PNG: a WebP of this image would be the thumbnail's bytes), of an
   * original two images share: the images, its blob's hash. */
  const variantPath = (image: UploadedImage) => `/imgs/${image.id}/medium.png`;
  let sharing: UploadedImage[] = [];
  let variantHash: string;

  before(async () => {
    oldDir = await tempDir('imghost-migrate-from-');
    newDir = await tempDir('imghost-migrate-to-');
    const s = await startTestServer({ data_dir: oldDir });
    try {
      for (const data of [await photo(300, 200), await solid(40, 40, '#aa0000', 'jpeg'), await photo(120, 90, 'webp')]) {
        const image = await s.uploadOk(data);
        originals.set(image.id, data);
        images.push(image);
      }
      // A duplicate: two records, one set of blobs.
      const dup = await s.uploadOk(await solid(40, 40, '#aa0000', 'jpeg'));
      originals.set(dup.id, await solid(40, 40, '#aa0000', 'jpeg'));
      sharing = images.filter((image) => image.sha256 === dup.sha256).concat(dup);
      images = [...images, dup];
      const variant = await s.fetch(variantPath(dup));
      assert.equal(variant.status, 200);
      variantHash = sha256(Buffer.from(await variant.arrayBuffer()));
    } finally {
      await s.close();
    }
  });
  after(async () => {
    await rm(oldDir, { recursive: true, force: true });
    await rm(newDir, { recursive: true, force: true });
  });

  const storeArgs = () => ['migrate-store', `--from=${join(oldDir, 'blobs')}`, `--to=${join(newDir, 'blobs')}`];
  const dbArgs = () => ['migrate-db', `--from=sqlite:${join(oldDir, 'imghost.db')}`, `--to=sqlite:${join(newDir, 'imghost.db')}`];

  it('copies every blob and every record, and the new library serves each image byte-exact in the same order', async () => {
    const store = await runCli(storeArgs());
    assert.equal(store.code, 0, store.stderr);
    assert.match(store.stdout, /migrate-store: 7 copied, 0 already there, 0 failed/, 'three originals, three thumbnails, a variant');
    const db = await runCli(dbArgs());
    assert.equal(db.code, 0, db.stderr);
    assert.match(db.stdout, /migrate-db: 4 copied, 0 already there; variants: 1 copied, 0 already there; takedowns: 0 copied, 0 already there, 0 log entries copied\n/);

    const s = await startTestServer({ data_dir: newDir });
    try {
      const list = await (await s.fetch('/api/images')).json() as { images: { id: string }[] };
      assert.deepEqual(list.images.map((i) => i.id), images.map((i) => i.id).reverse());
      for (const [id, data] of originals) {
        const body = Buffer.from(await (await s.fetch(`/imgs/${id}/orig`)).arrayBuffer());
        assert.equal(sha256(body), sha256(data));
        assert.equal((await s.fetch(`/imgs/${id}/thumb`)).status, 200);
      }
      // The variant, recorded and stored there, is served as it was, with no encode.
      assert.equal(sharing.length, 2);
      for (const image of sharing) {
        const variant = await s.fetch(variantPath(image));
        assert.equal(variant.headers.get('etag'), `"${variantHash}"`);
        assert.equal(sha256(Buffer.from(await variant.arrayBuffer())), variantHash);
      }
      assert.equal(s.server.library.variants.encodes, 0);
      // Delete tokens travel with the records.
      const [first] = images;
      assert.ok(first);
      const del = await s.fetch(`/api/images/${first.id}`, { method: 'DELETE', headers: { 'x-delete-token': first.delete_token } });
      assert.equal(del.status, 204);
    } finally {
      await s.close();
    }
  });

  it('copies nothing on a second run, and only what is missing after an interruption', async () => {
    const again = await runCli(dbArgs());
    assert.match(again.stdout, /migrate-db: 1 copied, 3 already there; variants: 0 copied, 1 already there; takedowns: 0 copied, 0 already there, 0 log entries copied\n/,
      'the record deleted in the new library comes back');
    const [lost] = await blobPaths(join(newDir, 'blobs'));
    assert.ok(lost);
    await unlink(lost);
    const resumed = await runCli(storeArgs());
    assert.equal(resumed.code, 0, resumed.stderr);
    // The two blobs of the image deleted in the new library, and the one removed by hand.
    assert.match(resumed.stdout, /migrate-store: 3 copied, 4 already there, 0 failed/);
    const settled = await runCli(storeArgs());
    assert.match(settled.stdout, /migrate-store: 0 copied, 7 already there, 0 failed/);
  });

  it('reports a source blob whose bytes no longer match its hash, and exits 1 without copying it', async () => {
    const [victim] = await blobPaths(join(oldDir, 'blobs'));
    assert.ok(victim);
    await writeFile(victim, 'damaged');
    const target = await tempDir('imghost-migrate-damaged-');
    try {
      const result = await runCli(['migrate-store', `--from=${join(oldDir, 'blobs')}`, `--to=${target}`]);
      assert.equal(result.code, 1);
      assert.match(result.stdout, /failed [0-9a-f]{64}: content hash .* does not match the key/);
      assert.match(result.stdout, /6 copied, 0 already there, 1 failed/);
      assert.equal((await blobPaths(target)).length, 6);
    } finally {
      await rm(target, { recursive: true, force: true });
    }
  });

  it('refuses to run without both --from and --to (exit 2)', async () => {
    const result = await runCli(['migrate-store', `--from=${oldDir}`]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /give both --from and --to/);
  });
});

describe('migrate-db and takedowns', () => {
  it('carries the takedowns in force, the ids they removed and the audit log, once', async () => {
    const dir = await tempDir('imghost-migrate-takedowns-');
    const from = new SqliteRepo(join(dir, 'from.db'));
    const to = new SqliteRepo(join(dir, 'to.db'));
    try {
      const kept = await ready(from, image({}, 'kept'));
      const removed = await ready(from, image({}, 'refused'));
      const undone = await ready(from, image({}, 'undone'));
      await from.takedowns.takeDown(removed.orig.hash, 'abuse report');
      await from.takedowns.takeDown(undone.orig.hash, 'mistake');
      await from.takedowns.undo(undone.orig.hash, null);
      const result = await migrateDb(from, to);
      assert.deepEqual([result.copied, result.takedowns], [1, { copied: 1, skipped: 0, logEntries: 3 }]);
      assert.ok(await to.get(kept.id));
      assert.deepEqual(await to.takedowns.list(), await from.takedowns.list());
      assert.deepEqual(await to.takedowns.removedBy(removed.id), { hash: removed.orig.hash, reason: 'abuse report' });
      assert.equal(await to.takedowns.isRefused(undone.orig.hash), false);
      assert.deepEqual(await to.takedowns.log(), await from.takedowns.log());
      const again = await migrateDb(from, to);
      assert.deepEqual(again.takedowns, { copied: 0, skipped: 1, logEntries: 0 });
      assert.equal((await to.takedowns.log()).length, 3);
    } finally {
      await Promise.all([from.close(), to.close()]);
      await rm(dir, { recursive: true, force: true });
    }
  });
});
