// gc beside live uploads and after a delete that died half-way, on the embedded default: `imghost
// gc --gc_grace=0` run over and over as a real command while uploads stream into a running server
// takes nothing a live upload holds (its spooled file, its pending record, its blobs), and a blob
// a removal parked and never put back is served and restored while an image still needs it;
// a store of more blobs than gc asks the database about at once loses exactly its old orphans; and
// more expired images than the sweep removes at once all go, with their files, a batch at a time.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { access, mkdir, mkdtemp, rename, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { collectGarbage, removeExpired } from '../src/gc.js';
import { SqliteRepo } from '../src/repo/sqlite.js';
import { FsStore } from '../src/store/fs.js';
import { image, ready, variant } from './repo/contract.js';
import { runCli, type CliResult } from './helpers/cli.js';
import { assertVerifyClean, leftovers } from './helpers/data-dir.js';
import { photo, solid } from './helpers/images.js';
import { listedIds } from './helpers/listing.js';
import { startTestServer, type TestServer, type UploadedImage } from './helpers/server.js';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const UPLOADERS = 4;
/** gc runs that must complete while uploads are in flight. */
const GC_RUNS = 3;

const blobPath = (dataDir: string, key: string) => join(dataDir, 'blobs', key.slice(0, 2), key.slice(2, 4), key);
const exists = (path: string): Promise<boolean> => access(path).then(() => true, () => false);

async function servedWhole(s: TestServer, image: UploadedImage, data: Buffer): Promise<void> {
  const orig = await s.fetch(image.url);
  assert.equal(orig.status, 200, `${image.id} served`);
  assert.equal(sha256(Buffer.from(await orig.arrayBuffer())), sha256(data), `${image.id} served byte for byte`);
  assert.equal((await s.fetch(image.thumb_url)).status, 200);
}

describe('imghost gc --gc_grace=0 racing uploads to a running server', () => {
  it('takes nothing from a live upload: every upload is answered 201 and kept, and verify is clean', async (t) => {
    const s = await startTestServer({ strip_metadata: false });
    t.after(() => s.close());
    // Large enough that receiving and saving take a while; one image twice, so duplicates race too.
    const twice = await photo(1600, 1200);
    const pool = [twice, twice, await photo(2000, 1500), await photo(1200, 900, 'png'), await photo(1000, 800, 'webp')];

    const uploadsDone = new AbortController();
    const gcRuns: CliResult[] = [];
    const gcLoop = (async () => {
      while (!uploadsDone.signal.aborted) gcRuns.push(await runCli(['gc', `--data_dir=${s.dataDir}`, '--gc_grace=0']));
    })();
    const answers: { status: number; body: string; data: Buffer }[] = [];
    const uploader = async (offset: number): Promise<void> => {
      for (let i = offset; gcRuns.length < GC_RUNS; i++) {
        const data = pool[i % pool.length] ?? twice;
        const res = await s.upload(data);
        answers.push({ status: res.status, body: await res.text(), data });
      }
    };
    await Promise.all(Array.from({ length: UPLOADERS }, (_, i) => uploader(i)));
    uploadsDone.abort();
    await gcLoop;
    t.diagnostic(`${String(answers.length)} uploads beside ${String(gcRuns.length)} gc runs`);

    for (const run of gcRuns) assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(answers.filter((a) => a.status !== 201).map((a) => `${String(a.status)} ${a.body}`), []);
    for (const { body, data } of answers) await servedWhole(s, JSON.parse(body) as UploadedImage, data);
    // Every page: how many uploads fit beside the gc runs depends on the machine's speed.
    assert.equal((await listedIds(s.url)).size, answers.length);
    await assertVerifyClean(s.dataDir);
  });
});

describe('a delete that died with a blob parked, while another upload of the same bytes took that blob', () => {
  /**
   * The state a node killed inside a delete leaves: the deleted image's record is gone and its
   * original is parked in blobs/.tmp, while a second image of the same bytes, uploaded as the
   * delete began (it found the blob and stored nothing), is ready and refers to it.
   */
  async function deleteDiedAfterParking(s: TestServer, data: Buffer): Promise<{ survivor: UploadedImage; parked: string }> {
    const deleted = await s.uploadOk(data);
    const survivor = await s.uploadOk(data);
    assert.equal(survivor.sha256, deleted.sha256);
    assert.equal(await s.server.library.repo.remove(deleted.id), true);
    const parked = join(s.dataDir, 'blobs', '.tmp', `${deleted.sha256}.deleting.${randomBytes(6).toString('hex')}`);
    await rename(blobPath(s.dataDir, deleted.sha256), parked);
    return { survivor, parked };
  }

  it('serves the surviving image byte for byte, putting the blob back, and verify is clean', async (t) => {
    const s = await startTestServer({ strip_metadata: false });
    t.after(() => s.close());
    const data = await photo(400, 300);
    const { survivor, parked } = await deleteDiedAfterParking(s, data);
    await servedWhole(s, survivor, data);
    assert.equal(await exists(parked), false);
    assert.equal(await exists(blobPath(s.dataDir, survivor.sha256)), true);
    // A third upload of the same bytes is served too, and the record count is what was answered.
    await servedWhole(s, await s.uploadOk(data), data);
    await assertVerifyClean(s.dataDir);
  });

  it('gc puts the blob back rather than discarding it, once the delete is certainly dead', async (t) => {
    const s = await startTestServer({ strip_metadata: false });
    t.after(() => s.close());
    const data = await solid(300, 200, '#3070c0');
    const { survivor, parked } = await deleteDiedAfterParking(s, data);
    // A lease and more after the crash: no removal that parked this is alive any more.
    const longAgo = new Date(Date.now() - 3600_000);
    await utimes(parked, longAgo, longAgo);
    const gc = await runCli(['gc', `--data_dir=${s.dataDir}`, '--gc_grace=0']);
    assert.equal(gc.code, 0, gc.stderr);
    assert.equal(gc.stdout.split('\n').filter((line) => line.includes(survivor.sha256)).join('\n'), `restored parked blob ${survivor.sha256}`);
    assert.equal(await exists(blobPath(s.dataDir, survivor.sha256)), true, 'gc put the blob back');
    assert.deepEqual((await leftovers(s.dataDir)).temp, []);
    await servedWhole(s, survivor, data);
    await assertVerifyClean(s.dataDir);
  });
});

describe('gc over a store of more blobs than it asks the database about at once', () => {
  it('removes exactly the orphans older than the grace period, asking about at most 1,000 blobs at a time', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'imghost-gc-batches-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const repo = new SqliteRepo(join(dir, 'imghost.db'));
    t.after(() => repo.close());
    const store = await new FsStore(join(dir, 'blobs')).init();
    t.after(() => store.close());
    const readyImages = await Promise.all(Array.from({ length: 40 }, () => ready(repo, image())));
    const pending = Array.from({ length: 20 }, () => image());
    for (const img of pending) await repo.insertPending(img);
    const variants = await Promise.all(readyImages.slice(0, 20).map((img) => repo.insertVariant(variant(img.orig.hash))));
    const referenced = [...readyImages, ...pending].flatMap((img) => [img.orig.hash, img.thumb.hash]).concat(variants.map((v) => v.hash));
    const sha = (seed: string) => createHash('sha256').update(seed).digest('hex');
    const oldOrphans = Array.from({ length: 2200 }, (_, i) => sha(`old orphan ${String(i)}`));
    const youngOrphans = Array.from({ length: 50 }, (_, i) => sha(`young orphan ${String(i)}`));
    const longAgo = new Date(Date.now() - 3600_000);
    for (const key of [...referenced, ...oldOrphans, ...youngOrphans]) {
      const path = blobPath(dir, key);
      await mkdir(join(path, '..'), { recursive: true });
      await writeFile(path, key);
      if (!youngOrphans.includes(key)) await utimes(path, longAgo, longAgo);
    }
    const asked = t.mock.method(repo, 'referencedAmong');

    const report = await collectGarbage(repo, store, () => Promise.resolve([]), 60_000);

    assert.deepEqual([...report.blobs].sort(), [...oldOrphans].sort());
    for (const key of [...referenced, ...youngOrphans]) assert.equal(await exists(blobPath(dir, key)), true, `${key} kept`);
    for (const key of oldOrphans) assert.equal(await exists(blobPath(dir, key)), false, `${key} removed`);
    const batches = asked.mock.calls.map((call) => call.arguments[0].length);
    assert.ok(batches.every((size) => size <= 1000), `batches of ${batches.join(', ')}`);
    assert.equal(batches.reduce((a, b) => a + b, 0), referenced.length + oldOrphans.length, 'every old blob asked about once');
  });
});

describe('the expiry sweep over more expired images than it removes at once', () => {
  it('removes them all, a batch at a time, and the files no other image shares', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'imghost-gc-expired-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const repo = new SqliteRepo(join(dir, 'imghost.db'));
    t.after(() => repo.close());
    const store = await new FsStore(join(dir, 'blobs')).init();
    t.after(() => store.close());
    const expired = await Promise.all(Array.from({ length: 5 }, () => ready(repo, image({ expiresAt: new Date(Date.now() - 1000) }))));
    const kept = await ready(repo, image());
    for (const key of [...expired, kept].flatMap((img) => [img.orig.hash, img.thumb.hash])) {
      await mkdir(join(blobPath(dir, key), '..'), { recursive: true });
      await writeFile(blobPath(dir, key), key);
    }
    const batches = t.mock.method(repo.visibility, 'removeExpired');

    const removed = await removeExpired(repo, store, 2);

    assert.deepEqual(new Set(removed), new Set(expired.map((img) => img.id)));
    assert.deepEqual(batches.mock.calls.map((call) => call.arguments[0]), [2, 2, 2], 'until a batch comes back short');
    for (const img of expired) assert.equal(await exists(blobPath(dir, img.orig.hash)), false, `${img.id}'s original removed`);
    assert.equal(await exists(blobPath(dir, kept.orig.hash)), true);
  });
});
