// `imghost verify`: every image's original, thumbnail and variants are read back and hashed; a
// missing or corrupt blob is reported with the image it damages, and the exit code says whether
// any was. `--repair` forgets damaged variants, which the server then makes again.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { runCli } from './helpers/cli.js';
import { photo, solid } from './helpers/images.js';
import { startTestServer, tempDir, type TestServer, type UploadedImage } from './helpers/server.js';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const blobPath = (dataDir: string, key: string) => join(dataDir, 'blobs', key.slice(0, 2), key.slice(2, 4), key);

interface Stored { image: UploadedImage; thumbHash: string }

/** The blob hash a variant is served from: its strong ETag. */
const variantHash = async (server: TestServer, image: UploadedImage, name: string): Promise<string> => {
  const res = await server.fetch(`/imgs/${image.id}/${name}`);
  assert.equal(res.status, 200, name);
  await res.arrayBuffer();
  return (res.headers.get('etag') ?? '').replaceAll('"', '');
};

describe('imghost verify', () => {
  let dataDir: string;
  /** Two uploads of the same bytes share one original blob. (Every image is larger than a
   * thumbnail, so no thumbnail has the same bytes as its original.) */
  let shared: [Stored, Stored];
  let lostThumb: Stored;
  let corrupt: Stored;
  let whole: Stored;
  /** An image with two variants, one to lose and one to corrupt; `whole` has one left whole. */
  let withVariants: Stored;
  let lostVariant: string;
  let corruptVariant: string;
  before(async () => {
    dataDir = await tempDir('imghost-verify-');
    const server = await startTestServer({ data_dir: dataDir });
    try {
      const store = async (data: Buffer): Promise<Stored> => {
        const image = await server.uploadOk(data);
        const thumb = Buffer.from(await (await server.fetch(image.thumb_url)).arrayBuffer());
        return { image, thumbHash: sha256(thumb) };
      };
      const twice = await photo(240, 180);
      shared = [await store(twice), await store(twice)];
      lostThumb = await store(await solid(300, 200, '#208040'));
      corrupt = await store(await photo(300, 240, 'png'));
      whole = await store(await photo(200, 150, 'webp'));
      await variantHash(server, whole.image, 'small.webp');
      withVariants = await store(await photo(400, 300));
      lostVariant = await variantHash(server, withVariants.image, 'small.webp');
      corruptVariant = await variantHash(server, withVariants.image, 'small.png');
    } finally {
      await server.close();
    }
  });
  after(() => rm(dataDir, { recursive: true, force: true }));

  it('exits 0 on a whole library and says how many images it checked', async () => {
    const result = await runCli(['verify', `--data_dir=${dataDir}`]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, 'verify: 6 images checked, 0 damaged\n');
    assert.match(result.stderr, /^images: 0\/6, starting\nimages: 6\/6 in \d+\.\d s\n$/, 'a start line and a closing line');
  });

  it('names every damaged image and what is wrong with it, variants included, and exits 1', async () => {
    const [first, second] = shared;
    await unlink(blobPath(dataDir, first.image.sha256));
    await unlink(blobPath(dataDir, lostThumb.thumbHash));
    await unlink(blobPath(dataDir, lostVariant));
    // One byte changed: the size is right, only the content hash can tell.
    const damagedOriginal = await flipByte(blobPath(dataDir, corrupt.image.sha256));
    const damagedVariant = await flipByte(blobPath(dataDir, corruptVariant));

    const result = await runCli(['verify', `--data_dir=${dataDir}`, '--verify_concurrency=2']);
    assert.equal(result.code, 1, result.stderr);
    const lines = result.stdout.trimEnd().split('\n');
    assert.equal(lines.pop(), 'verify: 6 images checked, 5 damaged', 'the summary comes last');
    assert.equal(lines.pop(), 'variants are made again on request: run with --repair to forget the damaged ones');
    assert.deepEqual(lines.sort(), [
      `damaged ${first.image.id}: original ${first.image.sha256} is missing`,
      `damaged ${second.image.id}: original ${first.image.sha256} is missing`,
      `damaged ${lostThumb.image.id}: thumbnail ${lostThumb.thumbHash} is missing`,
      `damaged ${corrupt.image.id}: original ${corrupt.image.sha256} is corrupt: its content hashes to ${sha256(damagedOriginal)}`,
      `damaged ${withVariants.image.id}: variant 320:png ${corruptVariant} is corrupt: its content hashes to ${sha256(damagedVariant)}; `
      + `variant 320:webp ${lostVariant} is missing`,
    ].sort());
    assert.ok(!result.stdout.includes(whole.image.id), 'the whole image and its whole variant are not reported');
  });

  it('forgets damaged variants with --repair, which the server then makes again, and leaves the rest alone', async () => {
    const repaired = await runCli(['verify', `--data_dir=${dataDir}`, '--repair']);
    assert.equal(repaired.code, 1, 'the originals and the thumbnail are still damaged');
    assert.match(repaired.stdout, new RegExp(`^damaged ${withVariants.image.id}: variant 320:png .*; variant 320:webp .* is missing$`, 'm'));
    assert.match(repaired.stdout, /\nverify: 6 images checked, 4 damaged, 2 damaged variants forgotten\n$/);
    assert.equal(await blobExists(blobPath(dataDir, corruptVariant)), false, 'the corrupt blob is gone, not served');

    const server = await startTestServer({ data_dir: dataDir });
    try {
      assert.equal(await variantHash(server, withVariants.image, 'small.webp'), lostVariant);
      assert.equal(await variantHash(server, withVariants.image, 'small.png'), corruptVariant);
      assert.equal(server.server.library.variants.encodes, 2, 'both made again');
    } finally {
      await server.close();
    }
    const after = await runCli(['verify', `--data_dir=${dataDir}`]);
    assert.equal(after.code, 1);
    assert.ok(!after.stdout.includes(withVariants.image.id), 'the variants made again are whole');
    assert.match(after.stdout, /\nverify: 6 images checked, 4 damaged\n$/);
  });
});

/** Changes one byte of the file in place; its new bytes. */
async function flipByte(path: string): Promise<Buffer> {
  const bytes = await readFile(path);
  bytes[200] = (bytes[200] ?? 0) ^ 0xff;
  await writeFile(path, bytes);
  return bytes;
}

const blobExists = (path: string) => stat(path).then(() => true, () => false);

describe('imghost verify: the rules the records keep', () => {
  let dataDir: string;
  /** Each image is made to break one rule in the database, as a crash or a hand edit could. */
  let ghostOwned: UploadedImage;
  let userOwned: UploadedImage;
  let refused: UploadedImage;
  let overViewed: UploadedImage;
  let longExpired: UploadedImage;
  let justExpired: UploadedImage;
  const hour = 60 * 60_000;
  before(async () => {
    dataDir = await tempDir('imghost-verify-records-');
    const server = await startTestServer({ data_dir: dataDir });
    try {
      const uploads: UploadedImage[] = [];
      for (const width of [120, 130, 140, 150, 160, 170]) uploads.push(await server.uploadOk(await photo(width, 90)));
      [ghostOwned, userOwned, refused, overViewed, longExpired, justExpired] = uploads as [UploadedImage, UploadedImage,
        UploadedImage, UploadedImage, UploadedImage, UploadedImage];
    } finally {
      await server.close();
    }
    const db = new Database(join(dataDir, 'imghost.db'));
    try {
      const now = Date.now();
      db.prepare('INSERT INTO users (id, name, created_at) VALUES (?, ?, ?)').run('u-alice', 'alice', now);
      const set = (assignments: string, id: string, ...values: unknown[]) =>
        db.prepare(`UPDATE images SET ${assignments} WHERE id = ?`).run(...values, id);
      set('owner_id = ?', userOwned.id, 'u-alice');
      set('owner_id = ?', ghostOwned.id, 'u-removed');
      set('max_views = 2, views = 5', overViewed.id);
      set('expires_at = ?', longExpired.id, now - 2 * hour);
      set('expires_at = ?', justExpired.id, now - 10 * 60_000);
      // A refusal whose removal of the records never ran.
      db.prepare('INSERT INTO takedowns (hash, reason, created_at) VALUES (?, ?, ?)').run(refused.sha256, 'abuse report', now);
    } finally {
      db.close();
    }
  });
  after(() => rm(dataDir, { recursive: true, force: true }));

  it('reports an owner who is no user, taken-down bytes, views past the limit and an image long expired, and exits 1', async () => {
    const result = await runCli(['verify', `--data_dir=${dataDir}`]);
    assert.equal(result.code, 1, result.stderr);
    const lines = result.stdout.trimEnd().split('\n');
    assert.equal(lines.pop(), 'verify: 6 images checked, 4 damaged');
    assert.deepEqual(lines.sort(), [
      `damaged ${ghostOwned.id}: owner u-removed is not a user`,
      `damaged ${refused.id}: original ${refused.sha256} is taken down`,
      `damaged ${overViewed.id}: served 5 views, past its limit of 2`,
      `damaged ${longExpired.id}: expired at ${expiresAt(dataDir, longExpired.id)} and is still stored`,
      'an image past its view limit is served no more, and the expiry sweep (or imghost gc) removes expired images',
      'run with --repair to make the images of owners who are no users anonymous and take down again the images of taken-down bytes',
    ].sort());
    assert.ok(!result.stdout.includes(userOwned.id) && !result.stdout.includes(justExpired.id), 'a user\'s image and one expired minutes ago are fine');
  });

  it('with --repair makes the image anonymous and takes the bytes down again, and only reports the rest', async () => {
    const repaired = await runCli(['verify', `--data_dir=${dataDir}`, '--repair']);
    assert.equal(repaired.code, 1, repaired.stderr);
    assert.match(repaired.stdout, /\nverify: 6 images checked, 2 damaged, 2 images repaired\n$/);
    const db = new Database(join(dataDir, 'imghost.db'), { readonly: true });
    try {
      const owner = (id: string) => db.prepare<[string], { owner_id: string | null }>('SELECT owner_id FROM images WHERE id = ?').get(id);
      assert.deepEqual(owner(ghostOwned.id), { owner_id: null });
      assert.deepEqual(owner(userOwned.id), { owner_id: 'u-alice' });
      assert.equal(owner(refused.id), undefined, 'the record of taken-down bytes is gone');
      assert.deepEqual(db.prepare('SELECT hash, reason FROM takedowns').all(), [{ hash: refused.sha256, reason: 'abuse report' }]);
      assert.deepEqual(db.prepare('SELECT action, images FROM takedown_log').all(), [{ action: 'takedown', images: 1 }]);
    } finally {
      db.close();
    }
    assert.equal(await blobExists(blobPath(dataDir, refused.sha256)), false, 'its original is deleted');
    const after = await runCli(['verify', `--data_dir=${dataDir}`]);
    assert.deepEqual(after.stdout.trimEnd().split('\n').filter((l) => l.startsWith('damaged ')).map((l) => l.split(':')[0]).sort(),
      [`damaged ${overViewed.id}`, `damaged ${longExpired.id}`].sort());
    const server = await startTestServer({ data_dir: dataDir });
    try {
      assert.equal((await server.fetch(refused.url)).status, 410);
    } finally {
      await server.close();
    }
  });
});

/** The expiry recorded for an image, as verify prints it. */
function expiresAt(dataDir: string, id: string): string {
  const db = new Database(join(dataDir, 'imghost.db'), { readonly: true });
  try {
    const row = db.prepare<[string], { expires_at: number }>('SELECT expires_at FROM images WHERE id = ?').get(id);
    return new Date(row?.expires_at ?? 0).toISOString();
  } finally {
    db.close();
  }
}
