// Counting the parts of GIFs and WebPs from their bytes: what the probe refuses before libvips
// reads a header that would cost it a record per part.
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { countParts, partsFormat } from '../../src/images/parts.js';
import { gif, repeated, webpChunk, withWebpChunks } from '../helpers/hostile.js';
import { manyPageTiff } from '../helpers/decode-bombs.js';
import { animatedGif, photo } from '../helpers/images.js';
import { tempDir } from '../helpers/server.js';

describe('countParts', () => {
  let dir: string;
  let n = 0;
  const file = async (data: Buffer): Promise<string> => {
    const path = join(dir, `f${String(++n)}`);
    await writeFile(path, data);
    return path;
  };
  before(async () => { dir = await tempDir(); });
  after(() => rm(dir, { recursive: true, force: true }));

  it('tells GIFs and WebPs from other files by their first bytes', async () => {
    assert.equal(partsFormat(gif({ width: 2, height: 2, frames: 1 })), 'gif');
    assert.equal(partsFormat(await photo(8, 8, 'webp')), 'webp');
    assert.equal(partsFormat(await photo(8, 8, 'png')), null);
    assert.equal(partsFormat(Buffer.from('RIFF')), null);
  });

  it("counts a GIF's frames and its other blocks (a timing block per frame, the loop, a comment)", async () => {
    const path = await file(gif({ width: 3, height: 3, frames: 25, comment: 'hello' }));
    assert.deepEqual(await countParts(path, 'gif', 1000), { frames: 25, others: 27 });
  });

  it("counts an animated WebP's frames and its other chunks", async () => {
    const animated = await sharp(await animatedGif(3), { pages: -1 }).webp().toBuffer();
    // VP8X and ANIM besides the three ANMF frames.
    assert.deepEqual(await countParts(await file(animated), 'webp', 1000), { frames: 3, others: 2 });
    const still = await photo(8, 8, 'webp');
    const junk = withWebpChunks(still, [repeated(webpChunk('JUNK', Buffer.alloc(0)), 10)]);
    assert.deepEqual(await countParts(await file(junk), 'webp', 1000), { frames: 0, others: 11 });
  });

  it("counts a TIFF's pages, little- or big-endian, and stops at a chain that loops", async () => {
    const threePages = await sharp(await animatedGif(3, 8, 6), { pages: -1 }).tiff().toBuffer();
    assert.equal(partsFormat(threePages), 'tiff');
    assert.deepEqual(await countParts(await file(threePages), 'tiff', 1000), { frames: 3, others: 0 });
    assert.deepEqual(await countParts(await file(manyPageTiff(5000, 'MM')), 'tiff', 100_000), { frames: 5000, others: 0 });
    assert.deepEqual(await countParts(await file(manyPageTiff(5000, 'II')), 'tiff', 100), { frames: 101, others: 0 });
    const looping = manyPageTiff(3, 'II');
    looping.writeUInt32LE(8, looping.length - 4); // the last page links back to the first
    assert.deepEqual(await countParts(await file(looping), 'tiff', 1000), { frames: 3, others: 0 });
    assert.deepEqual(await countParts(await file(Buffer.from('II*\0')), 'tiff', 1000), { frames: 0, others: 0 });
  });

  it('stops counting once past the limit, however many parts follow, and quickly', async () => {
    const path = await file(gif({ width: 1, height: 1, frames: 2_200_000, timed: false }));
    const began = performance.now();
    const parts = await countParts(path, 'gif', 100);
    assert.equal(parts.frames, 101);
    assert.ok(performance.now() - began < 200);
  });

  it('ends the count where a file stops parsing, without throwing', async () => {
    const whole = gif({ width: 3, height: 3, frames: 10 });
    const parts = await countParts(await file(whole.subarray(0, Math.floor(whole.length / 2))), 'gif', 1000);
    assert.ok(parts.frames > 0 && parts.frames < 10);
    assert.deepEqual(await countParts(await file(Buffer.from('RIFF\x04\x00\x00\x00WEBP')), 'webp', 1000), { frames: 0, others: 0 });
  });
});
