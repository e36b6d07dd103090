// The thumbnail pipeline is tuned for speed and size (PNG filtering, libvips threads and cache);
// these tests hold it to what sharp makes with its default settings, by a pixel metric, so a
// tuning that degrades the picture fails here rather than on a user's screen.
import assert from 'node:assert/strict';
import { rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp, { type Sharp } from 'sharp';
import { options } from '../../src/config/options.js';
import { makeRendition, squareSpec } from '../../src/images/rendition.js';
import { ImageTooComplex, NotAnImage } from '../../src/errors.js';
import { animatedGif, drawing } from '../helpers/images.js';
import { tempDir } from '../helpers/server.js';

const SIZE = 128;
const limits = { maxPixels: 100_000_000, decodeBudget: 512 * 1024 * 1024, timeoutSeconds: 30, maxJpegScans: 256, maxFrames: 10_000 };
/** Peak signal-to-noise ratio, in dB, that counts as the same picture. */
const SAME_PICTURE_DB = 40;

/** A picture with edges, gradients and colour: detail a careless downscale or encoder would lose. */
function scene(width: number, height: number, alpha: boolean): Sharp {
  const circles = Array.from({ length: 12 }, (_, i) =>
    `<circle cx="${String((i * 137) % width)}" cy="${String((i * 89) % height)}" r="${String(40 + i * 9)}" fill="hsl(${String(i * 30)},70%,50%)" opacity="0.8"/>`).join('');
  const stripes = Array.from({ length: 40 }, (_, i) =>
    `<rect x="${String(i * 24)}" y="${String(height - 120)}" width="12" height="120" fill="#202020"/>`).join('');
  return drawing(`<svg xmlns="http://www.w3.org/2000/svg" width="${String(width)}" height="${String(height)}">
    <defs><linearGradient id="g" x2="1" y2="1"><stop offset="0" stop-color="#1e5aa8"/><stop offset="1" stop-color="#f2c14e"/></linearGradient></defs>
    <rect width="100%" height="100%" fill="url(#g)" ${alpha ? 'opacity="0.6"' : ''}/>${circles}${stripes}</svg>`);
}

interface Pixels { data: Buffer; width: number; height: number; channels: number }

/** `opaque`: without an alpha channel, for encodings that drop one that is all opaque (WebP). */
async function pixels(image: Buffer | string, opaque = false): Promise<Pixels> {
  const { data, info } = await (opaque ? sharp(image).removeAlpha() : sharp(image)).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

/** What sharp makes of `path` with nothing but the same resize: the reference picture. */
async function reference(path: string, opaque = false): Promise<Pixels> {
  return pixels(await sharp(path).autoOrient()
    .resize({ width: SIZE, height: SIZE, fit: 'inside', withoutEnlargement: true }).png().toBuffer(), opaque);
}

function psnr(a: Pixels, b: Pixels): number {
  assert.deepEqual([a.width, a.height, a.channels], [b.width, b.height, b.channels], 'same size and channels');
  let squared = 0;
  for (let i = 0; i < a.data.length; i++) squared += ((a.data[i] ?? 0) - (b.data[i] ?? 0)) ** 2;
  const mse = squared / a.data.length;
  return mse === 0 ? Number.POSITIVE_INFINITY : 10 * Math.log10((255 * 255) / mse);
}

describe('makeRendition', () => {
  let dir: string;
  const inputs: Record<string, string> = {};

  before(async () => {
    dir = await tempDir();
    const files: Record<string, Promise<Buffer>> = {
      // JPEG goes through shrink-on-load, a different path from the full decode of the rest.
      'photo.jpeg': scene(1920, 1200, false).jpeg({ quality: 90 }).toBuffer(),
      'drawing.png': scene(1600, 1000, false).png().toBuffer(),
      'transparent.png': scene(1000, 1600, true).png().toBuffer(),
      'photo.webp': scene(1920, 1200, false).webp({ quality: 90 }).toBuffer(),
      // Small originals in formats browsers may not show, whose PNG thumbnails came out larger.
      'small.avif': scene(800, 500, false).avif({ quality: 50 }).toBuffer(),
      'small.tiff': scene(400, 250, false).tiff({ compression: 'jpeg', quality: 75 }).toBuffer(),
    };
    for (const [name, data] of Object.entries(files)) {
      inputs[name] = join(dir, name);
      await writeFile(join(dir, name), await data);
    }
  });
  after(async () => { await rm(dir, { recursive: true, force: true }); });

  for (const name of ['photo.jpeg', 'drawing.png', 'transparent.png', 'photo.webp']) {
    it(`makes the same picture as sharp's defaults from ${name}`, async () => {
      const path = inputs[name] ?? '';
      const thumb = await makeRendition(path, squareSpec(SIZE, 'png'), limits);
      assert.equal(thumb.mime, 'image/png');
      const made = await pixels(thumb.data);
      assert.equal(Math.max(made.width, made.height), SIZE);
      assert.deepEqual([thumb.width, thumb.height], [made.width, made.height]);
      const db = psnr(made, await reference(path));
      assert.ok(db >= SAME_PICTURE_DB, `PSNR ${db.toFixed(1)} dB against sharp's defaults, below ${String(SAME_PICTURE_DB)} dB`);
    });
  }

  it('tells a degraded thumbnail from a faithful one (the metric is not blind)', async () => {
    const path = inputs['photo.jpeg'] ?? '';
    // What a reckless speed-up would make: nearest-neighbour sampling and a 16-colour palette.
    const degraded = await pixels(await sharp(path)
      .resize({ width: SIZE, height: SIZE, fit: 'inside', kernel: 'nearest' }).png({ palette: true, colours: 16 }).toBuffer());
    const db = psnr(degraded, await reference(path));
    assert.ok(db < SAME_PICTURE_DB, `a degraded thumbnail scored ${db.toFixed(1)} dB`);
  });

  it('makes PNG thumbnails no larger than sharp does by default', async () => {
    const path = inputs['drawing.png'] ?? '';
    const thumb = await makeRendition(path, squareSpec(SIZE, 'png'), limits);
    const plain = await sharp(path).resize({ width: SIZE, height: SIZE, fit: 'inside' }).png().toBuffer();
    assert.ok(thumb.data.length <= plain.length, `${String(thumb.data.length)} bytes against ${String(plain.length)}`);
  });

  describe('with the default encoding', () => {
    const spec = squareSpec(options.thumb_size.default, options.thumb_format.default);

    for (const name of ['photo.jpeg', 'drawing.png', 'transparent.png', 'small.avif', 'small.tiff']) {
      it(`stores ${name} in a fraction of a PNG's bytes and no more than the original's, as faithfully as a JPEG would`, async () => {
        const path = inputs[name] ?? '';
        const thumb = await makeRendition(path, spec, limits);
        const png = await makeRendition(path, { ...spec, format: 'png' }, limits);
        const original = (await stat(path)).size;
        assert.equal(thumb.mime, 'image/webp');
        assert.ok(thumb.data.length * 3 <= png.data.length, `${String(thumb.data.length)} bytes against a PNG's ${String(png.data.length)}`);
        assert.ok(thumb.data.length <= original, `${String(thumb.data.length)} bytes against the original's ${String(original)}`);
        assert.equal((await sharp(thumb.data).metadata()).hasAlpha, name === 'transparent.png', 'transparency kept, where there is some');
        // Lossy, so measured against what a host would otherwise send: a JPEG at quality 80.
        const exact = await reference(path, true);
        const jpeg = await pixels(await sharp(exact.data, { raw: { width: exact.width, height: exact.height, channels: 3 } }).jpeg({ quality: 80 }).toBuffer());
        const [db, jpegDb] = [psnr(await pixels(thumb.data, true), exact), psnr(jpeg, exact)];
        assert.ok(db >= jpegDb, `PSNR ${db.toFixed(1)} dB against sharp's defaults, a JPEG's ${jpegDb.toFixed(1)} dB`);
      });
    }
  });

  it('stops a thumbnail still being computed at its deadline as too complex, in this process too', async () => {
    // libvips checks the deadline between the tiles it computes: here, a large thumbnail of 36
    // megapixels of noise, seconds of work. (A decoder that reads a whole file in one call is
    // stopped only by killing the thumbnail process: thumbnailer.ts.)
    const path = join(dir, 'noise.jpg');
    await sharp({ create: { width: 6000, height: 6000, channels: 3, background: '#000000', noise: { type: 'gaussian', mean: 128, sigma: 40 } } }).jpeg().toFile(path);
    const began = performance.now();
    await assert.rejects(makeRendition(path, squareSpec(6000, 'png'), { ...limits, timeoutSeconds: 1 }), ImageTooComplex);
    assert.ok(performance.now() - began < 1800, 'stopped soon after the deadline');
    assert.equal((await makeRendition(path, squareSpec(SIZE, 'png'), { ...limits, timeoutSeconds: 1 })).width, SIZE, 'the same file, as a small thumbnail, in time');
  });

  describe('of an animation', () => {
    const animated = { ...squareSpec(20, 'webp'), animated: true };

    it('keeps every frame, each resized, and reports the size of one', async () => {
      const path = join(dir, 'three.gif');
      await writeFile(path, await animatedGif(3, 40, 30));
      const made = await makeRendition(path, animated, limits);
      const meta = await sharp(made.data).metadata();
      assert.deepEqual([made.width, made.height, meta.pages, meta.width, meta.height], [20, 15, 3, 20, 15]);
      assert.equal((await sharp((await makeRendition(path, squareSpec(20, 'webp'), limits)).data).metadata()).pages ?? 1, 1, 'a still spec decodes the first frame');
    });

    it('bounds the pixels of all frames together by maxPixels, as the upload did', async () => {
      const path = join(dir, 'three.gif');
      await writeFile(path, await animatedGif(3, 40, 30));
      const twoFrames = { ...limits, maxPixels: 2 * 40 * 30 };
      await assert.rejects(makeRendition(path, animated, twoFrames), NotAnImage);
      assert.equal((await makeRendition(path, squareSpec(20, 'webp'), twoFrames)).width, 20, 'its first frame alone is within the bound');
    });
  });
});
