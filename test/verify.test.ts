// `imghost verify`: every image's original and thumbnail are read back and hashed; a missing or
// corrupt blob is reported with the image it damages, and the exit code says whether any was.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from './helpers/cli.js';
import { photo, solid } from './helpers/images.js';
import { startTestServer, tempDir, type UploadedImage } from './helpers/server.js';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const blobPath = (dataDir: string, key: string) => join(dataDir, 'blobs', key.slice(0, 2), key.slice(2, 4), key);

interface Stored { image: UploadedImage; thumbHash: string }

describe('imghost verify', () => {
  let dataDir: string;
  /** Two uploads of the same bytes share one original blob. (Every image is larger than a
   * thumbnail, so no thumbnail has the same bytes as its original.) */
  let shared: [Stored, Stored];
  let lostThumb: Stored;
  let corrupt: Stored;
  let whole: Stored;
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
    } finally {
      await server.close();
    }
  });
  after(() => rm(dataDir, { recursive: true, force: true }));

  it('exits 0 on a whole library and says how many images it checked', async () => {
    const result = await runCli(['verify', `--data_dir=${dataDir}`]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, 'verify: 5 images checked, 0 damaged\n');
    assert.match(result.stderr, /^images: 0\/5, starting\nimages: 5\/5 in \d+\.\d s\n$/, 'a start line and a closing line');
  });

  it('names every damaged image and what is wrong with it, and exits 1', async () => {
    const [first, second] = shared;
    await unlink(blobPath(dataDir, first.image.sha256));
    await unlink(blobPath(dataDir, lostThumb.thumbHash));
    // One byte changed: the size is right, only the content hash can tell.
    const damagedBytes = await readFile(blobPath(dataDir, corrupt.image.sha256));
    damagedBytes[200] = (damagedBytes[200] ?? 0) ^ 0xff;
    await writeFile(blobPath(dataDir, corrupt.image.sha256), damagedBytes);

    const result = await runCli(['verify', `--data_dir=${dataDir}`, '--verify_concurrency=2']);
    assert.equal(result.code, 1, result.stderr);
    const lines = result.stdout.trimEnd().split('\n');
    assert.equal(lines.pop(), 'verify: 5 images checked, 4 damaged', 'the summary comes last');
    assert.deepEqual(lines.sort(), [
      `damaged ${first.image.id}: original ${first.image.sha256} is missing`,
      `damaged ${second.image.id}: original ${first.image.sha256} is missing`,
      `damaged ${lostThumb.image.id}: thumbnail ${lostThumb.thumbHash} is missing`,
      `damaged ${corrupt.image.id}: original ${corrupt.image.sha256} is corrupt: its content hashes to ${sha256(damagedBytes)}`,
    ].sort());
    assert.ok(!result.stdout.includes(whole.image.id), 'the whole image is not reported');
  });
});
