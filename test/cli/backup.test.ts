// `imghost backup` and `imghost restore`: a backup taken while the server serves and takes
// uploads is consistent, and a server on the restored data directory serves every image it holds
// byte for byte, and the variants made before, with no new encode.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli, type CliResult } from '../helpers/cli.js';
import { assertVerifyClean } from '../helpers/data-dir.js';
import { animatedGif, photo, solid } from '../helpers/images.js';
import { startTestServer, tempDir, type TestServer, type UploadedImage } from '../helpers/server.js';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const blobPath = (dataDir: string, key: string) => join(dataDir, 'blobs', key.slice(0, 2), key.slice(2, 4), key);
const SUMMARY = /^(?:backup|restore) into .*: (\d+) images, (\d+) variants, (\d+) blobs \((\d+) hard-linked, (\d+) copied, (\d+) already there\)\n$/m;

/** The numbers of a backup or restore summary: images, variants, blobs, hard-linked, copied, already there. */
function summary(result: CliResult): number[] {
  const match = SUMMARY.exec(result.stdout);
  assert.ok(match, `a summary line, got: ${result.stdout}`);
  return match.slice(1).map(Number);
}

/** Asks `server` for a variant, so it is made and stored. */
async function makeVariant(server: TestServer, path: string): Promise<{ path: string; hash: string }> {
  const res = await server.fetch(path);
  assert.equal(res.status, 200, path);
  return { path, hash: sha256(Buffer.from(await res.arrayBuffer())) };
}

async function listedIds(server: TestServer): Promise<string[]> {
  const ids: string[] = [];
  for (let cursor: string | null = ''; cursor !== null;) {
    const page = await (await server.fetch(`/api/images?limit=100${cursor === '' ? '' : `&before=${cursor}`}`)).json() as
      { images: { id: string }[]; next_cursor: string | null };
    ids.push(...page.images.map((i) => i.id));
    cursor = page.next_cursor;
  }
  return ids.sort();
}

describe('imghost backup and restore', () => {
  let dir: string;
  let dataDir: string;
  let backupDir: string;
  let server: TestServer;
  /** Answered 201 before the backup began: every one must be in it. */
  let earlier: UploadedImage[];
  /** Answered 201 while the backup ran: each one is in it or not, but never half. */
  const during: UploadedImage[] = [];
  let backup: CliResult;
  /** A variant made before the backup: the path it is served at, and its blob's hash. */
  let variant: { path: string; hash: string };

  before(async () => {
    dir = await tempDir('imghost-backup-');
    dataDir = join(dir, 'data');
    backupDir = join(dir, 'backup');
    server = await startTestServer({ data_dir: dataDir });
    earlier = [];
    for (const data of [await photo(300, 200), await photo(160, 240, 'png'), await photo(200, 200, 'webp'),
      await animatedGif(3), await solid(40, 30, '#804020')]) {
      earlier.push(await server.uploadOk(data));
    }
    variant = await makeVariant(server, `/imgs/${earlier[1]?.id ?? ''}/small.webp`);
    const backupDone = new AbortController();
    const uploader = (async () => {
      for (let i = 0; !backupDone.signal.aborted; i++) during.push(await server.uploadOk(await solid(50 + i, 40, '#2060a0')));
    })();
    backup = await runCli(['backup', `--data_dir=${dataDir}`, `--to=${backupDir}`]);
    backupDone.abort();
    await uploader;
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('takes a backup while the server is taking uploads, and says what it holds', () => {
    assert.equal(backup.code, 0, backup.stderr);
    assert.ok(during.length > 0, 'uploads were answered while the backup ran');
    const [images = 0, variants, blobs, linked, copied, present] = summary(backup);
    assert.ok(images >= earlier.length && images <= earlier.length + during.length, `${String(images)} images in the backup`);
    assert.equal(variants, 1);
    assert.deepEqual([linked, copied, present], [blobs, 0, 0], 'on one filesystem every blob is hard-linked');
  });

  it('hard-links the blobs instead of copying their bytes', async () => {
    for (const hash of [...earlier.map((image) => image.sha256), variant.hash]) {
      const [original, copy] = await Promise.all([stat(blobPath(dataDir, hash)), stat(blobPath(backupDir, hash))]);
      assert.equal(copy.ino, original.ino);
    }
  });

  it('writes a backup that is itself a library verify finds whole', async () => {
    await assertVerifyClean(backupDir);
  });

  it('restores into a new data directory that serves every image byte for byte, and its variants with no new encode', async () => {
    const restoredDir = join(dir, 'restored');
    const result = await runCli(['restore', `--from=${backupDir}`, `--data_dir=${restoredDir}`]);
    assert.equal(result.code, 0, result.stderr);
    const [images] = summary(result);
    assert.equal(images, summary(backup)[0]);
    await assertVerifyClean(restoredDir);

    const restored = await startTestServer({ data_dir: restoredDir });
    try {
      const listed = await listedIds(restored);
      assert.equal(listed.length, images);
      for (const image of earlier) assert.ok(listed.includes(image.id), `${image.id} was stored before the backup`);
      for (const image of [...earlier, ...during]) {
        const res = await restored.fetch(image.url);
        if (!listed.includes(image.id)) {
          assert.equal(res.status, 404, `${image.id} is not in the backup, so it is unknown`);
          continue;
        }
        assert.equal(res.status, 200);
        assert.equal(sha256(Buffer.from(await res.arrayBuffer())), image.sha256);
        const thumb = await restored.fetch(image.thumb_url);
        assert.equal(thumb.status, 200);
        assert.equal((await thumb.arrayBuffer()).byteLength, image.thumb.bytes);
      }
      const served = await restored.fetch(variant.path);
      assert.equal(served.headers.get('etag'), `"${variant.hash}"`);
      assert.equal(sha256(Buffer.from(await served.arrayBuffer())), variant.hash);
      assert.equal(restored.server.library.variants.encodes, 0, 'the variant came with the backup');
      // The delete tokens handed out before the backup still work.
      const [first] = earlier;
      assert.ok(first);
      const deleted = await restored.fetch(`/api/images/${first.id}`, { method: 'DELETE', headers: { 'x-delete-token': first.delete_token } });
      assert.equal(deleted.status, 204);
    } finally {
      await restored.close();
    }

    const again = await runCli(['restore', `--from=${backupDir}`, `--data_dir=${restoredDir}`]);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /already holds a library; stop any server using it and pass --force/);
    const forced = await runCli(['restore', `--from=${backupDir}`, `--data_dir=${restoredDir}`, '--force']);
    assert.equal(forced.code, 0, forced.stderr);
    const [forcedImages, , forcedBlobs, , , present] = summary(forced);
    assert.equal(forcedImages, images, 'the image deleted since is back');
    assert.equal(present, (forcedBlobs ?? 0) - 2, 'only the deleted image\'s two blobs had to be linked again');
  });

  it('refuses to write over a backup without --force, and refreshes it with --force', async () => {
    const refused = await runCli(['backup', `--data_dir=${dataDir}`, `--to=${backupDir}`]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /already holds a library/);
    const refreshed = await runCli(['backup', `--data_dir=${dataDir}`, `--to=${backupDir}`, '--force']);
    assert.equal(refreshed.code, 0, refreshed.stderr);
    const [images, , blobs, linked, , present] = summary(refreshed);
    assert.equal(images, earlier.length + during.length);
    assert.equal(present, (blobs ?? 0) - (linked ?? 0), 'blobs already in the backup are kept, not linked again');
    await assertVerifyClean(backupDir);
  });

  it('leaves out a variant whose blob the source lacks, to be made again, and the backup verifies whole', async () => {
    const lost = await makeVariant(server, `/imgs/${earlier[2]?.id ?? ''}/small.png`);
    await unlink(blobPath(dataDir, lost.hash));
    const partial = join(dir, 'partial');
    const result = await runCli(['backup', `--data_dir=${dataDir}`, `--to=${partial}`]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`^left out variant 320:png ${lost.hash}: the source lacks its blob; it is made again on its next request$`, 'm'));
    assert.equal(summary(result)[1], 1, 'the other variant is carried');
    await assertVerifyClean(partial);
  });

  it('points PostgreSQL and S3 users to their own tools', async () => {
    const result = await runCli(['backup', '--db=postgres://imghost@127.0.0.1:1/imghost', `--to=${join(dir, 'pg')}`]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /pg_dump .*bucket versioning/);
  });
});
