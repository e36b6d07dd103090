// Counting a progressive JPEG's scans from its bytes, without decoding: exact across the chunks
// it is read in and through entropy-coded data full of stuffed 0xff bytes, and cut short at the limit.
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { countScans } from '../../src/images/jpeg-scans.js';
import { manyScanJpeg } from '../helpers/decode-bombs.js';
import { photo } from '../helpers/images.js';
import { tempDir } from '../helpers/server.js';

describe('countScans', () => {
  let dir: string;
  let n = 0;
  const file = async (data: Buffer): Promise<string> => {
    const path = join(dir, `${String(++n)}.jpg`);
    await writeFile(path, data);
    return path;
  };
  before(async () => { dir = await tempDir(); });
  after(async () => { await rm(dir, { recursive: true, force: true }); });

  it('counts one scan in a baseline JPEG', async () => {
    assert.equal(await countScans(await file(await photo(300, 200)), 100), 1);
  });

  it('counts the scans the encoder wrote, whatever the picture: noise with stuffed bytes or flat grey', async () => {
    const noisy = await sharp(await photo(1200, 900)).jpeg({ progressive: true, quality: 95 }).toBuffer();
    assert.ok(noisy.includes(Buffer.from([0xff, 0x00])), 'entropy-coded data with stuffing');
    const grey = await manyScanJpeg(1200, 900, 0);
    const scans = await countScans(await file(grey), 100);
    assert.ok(scans >= 5 && scans <= 20, `${String(scans)} scans`);
    assert.equal(await countScans(await file(noisy), 100), scans);
  });

  it('counts every added scan exactly across the chunks the file is read in', async () => {
    const base = await countScans(await file(await manyScanJpeg(4000, 4000, 0)), 100_000);
    const bomb = await manyScanJpeg(4000, 4000, 5000);
    assert.ok(bomb.length > 4 * 64 * 1024, 'read in several chunks');
    assert.equal(await countScans(await file(bomb), 100_000), base + 5000);
  });

  it('skips bytes that are not markers between segments, as libjpeg does, and counts the scans after them', async () => {
    const bomb = await manyScanJpeg(400, 300, 1000);
    // After SOI and APP0: junk bytes, then a comment segment, then the rest of the file.
    const app0End = 4 + bomb.readUInt16BE(4);
    const junk = Buffer.concat([bomb.subarray(0, app0End), Buffer.from([0x00, 0x12, 0x34]), Buffer.from([0xff, 0xfe, 0x00, 0x02]), bomb.subarray(app0End)]);
    assert.equal(await countScans(await file(junk), 100_000), await countScans(await file(bomb), 100_000));
    assert.equal(await countScans(await file(junk), 256), 257);
  });

  it('stops reading one past the limit', async () => {
    assert.equal(await countScans(await file(await manyScanJpeg(400, 300, 1000)), 256), 257);
  });
});
