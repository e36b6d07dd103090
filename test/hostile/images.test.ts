// The malformed-image suite: truncated, corrupted, disguised, oversized and metadata-stuffed files,
// all generated here. Each is refused with a 4xx and a clear JSON message or accepted and served
// back exactly; bombs are refused from their header with memory staying flat; and afterwards the
// server is ready and nothing half-stored is left.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import sharp from 'sharp';
import {
  cutPoints, gif, gifHtmlPolyglot, hugeExifSegment, hugeIccSegments, hugeXmpSegment, jpegClaiming,
  jpegWithBadHuffman, jpegWithScrambledHuffman, pngChunk, pngWithBadCrc, repeated, webpChunk, withPngChunks, withWebpChunks,
} from '../helpers/hostile.js';
import { avifClaiming, gifClaiming, interlacedPng16Claiming, manyPageTiff, manyScanJpeg, progressiveCmykJpegClaiming } from '../helpers/decode-bombs.js';
import { photo, pngClaiming, svgWithScript } from '../helpers/images.js';
import { withSegments } from '../helpers/jpeg.js';
import { startTestServer, tempDir, type TestServer, type UploadedImage } from '../helpers/server.js';
import { memoryOf, thumbnailProcesses } from '../helpers/thumbnail-process.js';
import { assertNothingHalfStored, assertRefusal, assertServed, uploadAndCheck } from './answers.js';

const NOT_AN_IMAGE = /^cannot identify image file$/;
const execFileAsync = promisify(execFile);
const formats = ['jpeg', 'png', 'gif', 'webp', 'avif', 'tiff'] as const;

describe('hostile image files', () => {
  let s: TestServer;
  const accepted: UploadedImage[] = [];
  before(async () => { s = await startTestServer({ thumb_nice: 10 }); });
  after(() => s.close());

  /** Uploads one file that must be refused with `status` and `message`. */
  const refuse = async (data: Buffer, status: number, message: RegExp, filename = 'image.bin', type?: string) =>
    assertRefusal(await s.upload(data, { filename, type }), status, message, filename);

  /** Uploads one file that must be accepted as `mime`, and checks it is served back exactly. */
  const accept = async (data: Buffer, mime: string, filename = 'image.bin', type?: string): Promise<UploadedImage> => {
    const image = await s.uploadOk(data, { filename, type });
    accepted.push(image);
    await assertServed(s, image, data, mime);
    return image;
  };

  for (const format of formats) {
    it(`refuses ${format} files cut short anywhere before their last bytes with 400`, async () => {
      const whole = await photo(160, 120, format);
      const cuts = cutPoints(whole.length, 30);
      for (const cut of cuts) {
        const answer = await uploadAndCheck(s, whole.subarray(0, cut), `cut-${String(cut)}.${format}`);
        if (answer.image) accepted.push(answer.image);
        // Only the end of the trailer may be missing for a decoder to still see every pixel.
        if (cut < whole.length - 16) {
          assert.equal(answer.status, 400, `${format} cut at ${String(cut)} of ${String(whole.length)}`);
          assert.match(answer.error?.message ?? '', NOT_AN_IMAGE);
        }
      }
    });
  }

  it('refuses a PNG whose IHDR fails its CRC; one whose IDAT does is refused or served exactly', async () => {
    const png = await photo(120, 90, 'png');
    await refuse(pngWithBadCrc(png, 'IHDR'), 400, NOT_AN_IMAGE);
    const answer = await uploadAndCheck(s, pngWithBadCrc(png, 'IDAT'));
    if (answer.image) accepted.push(answer.image);
  });

  it('refuses a JPEG with impossible Huffman tables, and one whose tables decode to garbage', async () => {
    const jpeg = await photo(120, 90, 'jpeg');
    await refuse(jpegWithBadHuffman(jpeg), 400, NOT_AN_IMAGE);
    const answer = await uploadAndCheck(s, jpegWithScrambledHuffman(jpeg));
    if (answer.image) accepted.push(answer.image);
  });

  it('refuses zero-byte files whatever their name or claimed type', async () => {
    for (const [name, type] of [['empty.jpg', 'image/jpeg'], ['empty.png', 'image/png'], ['empty.gif', 'image/gif']]) {
      await refuse(Buffer.alloc(0), 400, NOT_AN_IMAGE, name, type);
    }
    const raw = await s.fetch('/api/images?name=empty.png', { method: 'POST', body: new Uint8Array(0), headers: { 'content-type': 'image/png' } });
    await assertRefusal(raw, 400, NOT_AN_IMAGE);
  });

  it('refuses text and HTML files that carry image names and types', async () => {
    await refuse(Buffer.from('just some notes\n'), 400, NOT_AN_IMAGE, 'notes.jpg', 'image/jpeg');
    await refuse(Buffer.from('<!doctype html><html><script>alert(1)</script></html>'), 400, NOT_AN_IMAGE, 'page.png', 'image/png');
    await refuse(Buffer.from('GIF89a but only the magic'), 400, NOT_AN_IMAGE, 'magic.gif', 'image/gif');
  });

  it('serves a GIF that is also an HTML page and a script only as image/gif, even if the uploader said text/html', async () => {
    const polyglot = gifHtmlPolyglot();
    assert.match(polyglot.toString('latin1'), /<script>/);
    const image = await accept(polyglot, 'image/gif', 'page.html', 'text/html');
    assert.equal(image.format, 'gif');
    // assertServed checked type, nosniff and sandbox; HEAD and ranges must say the same.
    for (const init of [{ method: 'HEAD' }, { headers: { range: 'bytes=0-5' } }]) {
      const res = await s.fetch(image.url, init);
      await res.arrayBuffer();
      assert.equal(res.headers.get('content-type'), 'image/gif');
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    }
  });

  it('refuses an SVG with a script (415), under its own name or disguised as a PNG', async () => {
    await refuse(svgWithScript, 415, /SVG files are not accepted/, 'drawing.svg', 'image/svg+xml');
    await refuse(svgWithScript, 415, /SVG files are not accepted/, 'photo.png', 'image/png');
  });

  it('refuses decompression bombs from their header (413) without the memory a decode would take', async () => {
    const jpeg = await photo(64, 48, 'jpeg');
    const bombs: [Buffer, RegExp][] = [
      [await pngClaiming(65000, 65000), /65000x65000, 4225 megapixels, more than the limit of 100 megapixels/],
      [jpegClaiming(jpeg, 60000, 60000), /60000x60000, 3600 megapixels, more than the limit of 100 megapixels/],
    ];
    const rssBefore = process.memoryUsage().rss;
    for (let round = 0; round < 5; round++) {
      for (const [bomb, message] of bombs) {
        assert.ok(bomb.length < 10_000, 'a few KB claim billions of pixels');
        await refuse(bomb, 413, message);
      }
    }
    // Decoding either would take over 10 GB; refusing from the header takes next to nothing.
    const grown = process.memoryUsage().rss - rssBefore;
    assert.ok(grown < 64 * 1024 * 1024, `RSS grew by ${String(grown)} bytes`);
  });

  it('refuses images within max_pixels whose decoding would pass decode_budget, from their header (413)', async () => {
    const bombs: [string, Buffer][] = [
      ['a 12-bit AVIF with alpha', await avifClaiming(10000, 10000, true)],
      ['an 8-bit AVIF', await avifClaiming(10000, 10000, false)],
      ['an interlaced 16-bit RGBA PNG', await interlacedPng16Claiming(10000, 10000)],
      ['a progressive CMYK JPEG', await progressiveCmykJpegClaiming(10000, 10000)],
      ['a GIF', await gifClaiming(10000, 10000)],
    ];
    const rssBefore = process.memoryUsage().rss;
    for (const [what, bomb] of bombs) {
      assert.ok(bomb.length < 2000, `${what}: a few hundred bytes`);
      const began = performance.now();
      const refusal = await refuse(bomb, 413, /^decoding the image would need about [\d.]+ [MG]iB of memory, more than the 320 MiB limit$/, what);
      assert.equal(refusal.error, 'OVER_DECODE_BUDGET');
      assert.ok(performance.now() - began < 1000, `${what}: refused at once, not decoded`);
    }
    // Decoding them would take 0.5 to 2.4 GB each; refusing from the header takes next to nothing.
    const grown = process.memoryUsage().rss - rssBefore;
    assert.ok(grown < 64 * 1024 * 1024, `RSS grew by ${String(grown)} bytes`);
  });

  it('accepts a progressive JPEG of 100 megapixels, within the budget, with the thumbnail process under its memory limit', async () => {
    const big = await sharp({ create: { width: 10000, height: 10000, channels: 3, background: '#4080c0' } }).jpeg({ progressive: true }).toBuffer();
    const began = performance.now();
    const image = await accept(big, 'image/jpeg', 'big.jpg');
    assert.deepEqual([image.width, image.thumb.width], [10000, 128]);
    assert.ok(performance.now() - began < s.config.thumb_timeout * 1000 / 2, 'well within thumb_timeout');
    const [child] = await thumbnailProcesses();
    assert.ok(child !== undefined);
    const { peak } = await memoryOf(child);
    // Its 300 MB of coefficients, the process itself, and no more than the limit allows.
    assert.ok(peak > 300e6 && peak < 256 * 1024 * 1024 + s.config.thumb_concurrency * s.config.decode_budget, `peak ${String(peak)}`);
  });

  it('refuses files for libvips loaders other than the accepted formats\' without running them (415 or 400)', async () => {
    const dir = await tempDir();
    try {
      const vips = join(dir, 'native.v');
      await sharp({ create: { width: 8, height: 8, channels: 3, background: '#102030' } }).toFile(vips);
      const files: [string, Buffer, number, RegExp][] = [
        // librsvg would open the referenced file and render a picture of a billion pixels.
        ['external.svg', Buffer.from('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="30000" height="30000"><image xlink:href="file:///etc/hostname" width="30000" height="30000"/></svg>'), 415, /SVG files are not accepted/],
        ['native.v', await readFile(vips), 415, /VIPS files are not accepted/],
        ['image.ppm', Buffer.concat([Buffer.from('P6\n2 2\n255\n'), Buffer.alloc(12, 200)]), 415, /PPM files are not accepted/],
        ['matrix.mat', Buffer.from('2 2\n1 2\n3 4\n'), 400, NOT_AN_IMAGE],
        ['document.pdf', Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n'), 415, /PDF files are not accepted/],
      ];
      for (const [name, data, status, message] of files) {
        await refuse(data, status, message, name);
        // Blocked in this process, where the server runs: libvips does not even sniff them.
        const path = join(dir, name);
        await writeFile(path, data);
        await assert.rejects(sharp(path).metadata(), /unsupported image format/, name);
      }
      // Outside the server's process, the same libvips reads the SVG and VIPS files: the block refused them.
      const script = 'const sharp = require(\'sharp\'); Promise.all(process.argv.slice(1).map((f) => sharp(f, { limitInputPixels: false }).metadata().then((m) => m.format))).then((f) => console.log(f.join()))';
      const { stdout } = await execFileAsync(process.execPath, ['-e', script, join(dir, 'external.svg'), vips]);
      assert.equal(stdout.trim(), 'svg,vips');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a progressive JPEG of 10,000 scans from its bytes (422), before decoding; accepts one of 200', async () => {
    const bomb = await manyScanJpeg(4000, 4000, 10_000);
    const began = performance.now();
    const refusal = await refuse(bomb, 422, /^the progressive JPEG has more than 256 scans/, 'scans.jpg');
    assert.equal(refusal.error, 'TOO_MANY_SCANS');
    assert.ok(performance.now() - began < 1000, 'at once, where decoding takes 25 s');
    const image = await accept(await manyScanJpeg(400, 300, 200), 'image/jpeg', 'many-scans.jpg');
    assert.equal(image.thumb.width, 128);
  });

  it('counts every frame of an animation: thousands of frames over max_pixels are refused (413)', async () => {
    const deep = gif({ width: 200, height: 200, frames: 5000 });
    assert.ok(deep.length < 200_000);
    await refuse(deep, 413, /200x200 x 5000 frames, 200 megapixels/);
  });

  it('accepts an animation of thousands of small frames and thumbnails its first', async () => {
    const image = await accept(gif({ width: 10, height: 10, frames: 3000 }), 'image/gif');
    assert.deepEqual([image.width, image.height, image.thumb.width, image.thumb.height], [10, 10, 10, 10]);
  });

  it('accepts a CMYK JPEG and a 16-bit PNG, with thumbnails made', async () => {
    const canvas = { create: { width: 100, height: 80, channels: 3 as const, background: '#336699' } };
    const cmyk = await sharp(canvas).toColourspace('cmyk').jpeg().toBuffer();
    assert.equal((await sharp(cmyk).metadata()).space, 'cmyk');
    const deep = await sharp(canvas).toColourspace('rgb16').png().toBuffer();
    assert.equal((await sharp(deep).metadata()).depth, 'ushort');
    for (const [data, mime] of [[cmyk, 'image/jpeg'], [deep, 'image/png']] as const) {
      const image = await accept(data, mime);
      assert.deepEqual([image.width, image.height, image.thumb.width, image.thumb.height], [100, 80, 100, 80]);
    }
  });

  it('accepts images with enormous EXIF, XMP and ICC blocks, and keeps them out of the thumbnails', async () => {
    const jpeg = await photo(120, 90, 'jpeg');
    const png = await photo(120, 90, 'png');
    const filler = 4 * 1024 * 1024;
    const stuffed: [Buffer, string][] = [
      [withSegments(jpeg, [hugeExifSegment(), hugeXmpSegment(), ...hugeIccSegments(filler)]), 'image/jpeg'],
      [withPngChunks(png, [pngChunk('iTXt', Buffer.concat([Buffer.from('XML:com.adobe.xmp\0\0\0\0\0'), Buffer.alloc(filler, 0x20)]))]), 'image/png'],
      [withPngChunks(png, [pngChunk('eXIf', Buffer.concat([Buffer.from('II*\0\x08\0\0\0\0\0', 'latin1'), Buffer.alloc(filler)]))]), 'image/png'],
      [await sharp(await photo(120, 90, 'webp')).withXmp(`<x:xmpmeta xmlns:x="adobe:ns:meta/"><!--${' '.repeat(filler)}--></x:xmpmeta>`).webp().toBuffer(), 'image/webp'],
    ];
    for (const [data, mime] of stuffed) {
      assert.ok(data.length > filler);
      const image = await accept(data, mime);
      assert.ok(image.thumb.bytes < 64 * 1024, `a ${mime} thumbnail of ${String(image.thumb.bytes)} bytes carries the metadata`);
    }
  });

  // Reading the header of such a file, libvips keeps a record of every frame or chunk: five to
  // seven times the file's size in the server. They are counted first, without it.
  it('refuses a 33 MB GIF of 2.2 million 1x1 frames (422) from a count of its blocks, before libvips reads it', async () => {
    const data = gif({ width: 1, height: 1, frames: 2_200_000, comment: 'taken at home by Alice', timed: false });
    const began = performance.now();
    const refusal = await assertRefusal(await s.upload(data, { filename: 'frames.gif' }), 422, /^the GIF has more than 10000 frames or too many other parts; send a simpler file$/);
    assert.equal(refusal.error, 'TOO_MANY_FRAMES');
    assert.ok(performance.now() - began < 5000, 'counted in the time it takes to read the file');
  });

  it('refuses a TIFF of 300,000 pages (422) from a count of its directories, before libtiff walks them', async () => {
    const began = performance.now();
    const refusal = await assertRefusal(await s.upload(manyPageTiff(300_000, 'II'), { filename: 'pages.tif' }), 422, /^the TIFF has more than 10000 frames/);
    assert.equal(refusal.error, 'TOO_MANY_FRAMES');
    assert.ok(performance.now() - began < 2000, 'counted, not walked by libtiff (seconds)');
  });

  it('refuses WebPs of 200,000 and 4 million chunks and an EXIF block (422), never a 500', async () => {
    const exifPhoto = await sharp(await photo(64, 48)).withExif({ IFD0: { Make: 'PhoneCo' } }).withMetadata({ orientation: 6 }).webp().toBuffer();
    for (const count of [200_000, 4_000_000]) {
      const data = withWebpChunks(exifPhoto, [repeated(webpChunk('JUNK', Buffer.alloc(0)), count)]);
      const refusal = await assertRefusal(await s.upload(data, { filename: `chunks-${String(count)}.webp` }), 422, /^the WEBP has more than 10000 frames/, `${String(count)} chunks`);
      assert.equal(refusal.error, 'TOO_MANY_FRAMES');
    }
  });

  it('leaves the server ready with nothing half-stored: no record, blob or temporary file of a refused file', async () => {
    assert.ok(accepted.length >= 8);
    await assertNothingHalfStored(s, accepted);
  });
});

describe('max_frames', () => {
  let s: TestServer;
  before(async () => { s = await startTestServer({ max_frames: 40 }); });
  after(() => s.close());

  it('accepts an animation of max_frames frames and refuses one more; other blocks and chunks may number one per frame and 64 more', async () => {
    // Each timed frame is a graphic control extension and an image, and the loop is one more extension.
    const image = await s.uploadOk(gif({ width: 4, height: 4, frames: 40 }), { filename: 'forty.gif' });
    assert.equal(image.format, 'gif');
    await assertRefusal(await s.upload(gif({ width: 4, height: 4, frames: 41 }), { filename: 'forty-one.gif' }), 422, /more than 40 frames/);
    const still = await photo(32, 24, 'webp');
    // A still WebP: its image chunk, and the junk ones.
    await s.uploadOk(withWebpChunks(still, [repeated(webpChunk('JUNK', Buffer.alloc(0)), 40 + 64 - 1)]), { filename: 'junk.webp' });
    await assertRefusal(await s.upload(withWebpChunks(still, [repeated(webpChunk('JUNK', Buffer.alloc(0)), 40 + 64)])), 422, /the WEBP has more than 40/);
  });
});

// With --max_jpeg_scans raised, a JPEG of thousands of scans stands for any decode too slow to finish.
describe('a decode that runs past thumb_timeout', () => {
  let s: TestServer;
  // Two seconds: the thumbnail made meanwhile shares the machine with the bomb and other tests.
  before(async () => { s = await startTestServer({ thumb_nice: 10, thumb_timeout: 2, thumb_concurrency: 2, max_jpeg_scans: 100_000 }); });
  after(() => s.close());

  it('is stopped (422) and its slot freed, while the server answers and makes other thumbnails meanwhile', async () => {
    // 10,000 scans that each walk 250,000 blocks: 25 s that libjpeg spends without returning.
    const bomb = await manyScanJpeg(4000, 4000, 10_000);
    assert.ok(bomb.length < 1_000_000, `${String(bomb.length)} bytes`);
    const rssBefore = process.memoryUsage().rss;
    const began = performance.now();
    let answeredAt = 0;
    const refused = s.upload(bomb, { filename: 'scans.jpg' }).then((res) => { answeredAt = performance.now(); return res; });
    await delay(300);
    assert.equal((await s.fetch('/healthz')).status, 200);
    const other = await s.uploadOk(await photo(800, 600), { filename: 'meanwhile.jpg' });
    assert.equal(other.thumb.width, 128);
    assert.equal(answeredAt, 0, 'made while the bomb still held its slot');
    const refusal = await assertRefusal(await refused, 422, /^the image took longer than 2 s to decode; send a simpler file$/);
    assert.equal(refusal.error, 'IMAGE_TOO_COMPLEX');
    const seconds = (answeredAt - began) / 1000;
    assert.ok(seconds >= 2 && seconds < 2 + 2 + 1.5, `answered after ${seconds.toFixed(1)} s: the deadline and the kill margin`);
    // Both slots are free: two more are made at once, by a new thumbnail process.
    const next = performance.now();
    await Promise.all([s.uploadOk(await photo(640, 480), { filename: 'after.jpg' }), s.uploadOk(await photo(480, 640), { filename: 'after-2.jpg' })]);
    assert.ok(performance.now() - next < 3000);
    const children = await thumbnailProcesses();
    assert.equal(children.length, 1);
    assert.ok((await memoryOf(children[0] ?? 0)).peak < 512 * 1024 * 1024);
    const grown = process.memoryUsage().rss - rssBefore;
    assert.ok(grown < 64 * 1024 * 1024, `the server's RSS grew by ${String(grown)} bytes`);
  });
});
