// Placeholders: the ThumbHash of a thumbnail, and the tiny picture a page paints from it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { thumbHashToAverageRGBA, thumbHashToRGBA } from 'thumbhash';
import { makePlaceholder, placeholderDataUrl } from '../../src/images/placeholder.js';
import { scene, solid } from '../helpers/images.js';

const decoded = (placeholder: string | null) => {
  assert.ok(placeholder !== null, 'a placeholder was made');
  return thumbHashToRGBA(Buffer.from(placeholder, 'base64'));
};

/** The mean of each channel over all pixels, 0 to 255. */
function meanRgba(rgba: Uint8Array): [number, number, number, number] {
  const sums = [0, 0, 0, 0];
  for (let i = 0; i < rgba.length; i++) sums[i % 4] = (sums[i % 4] ?? 0) + (rgba[i] ?? 0);
  const n = rgba.length / 4;
  return [0, 1, 2, 3].map((c) => (sums[c] ?? 0) / n) as [number, number, number, number];
}

describe('makePlaceholder', () => {
  it('gives a red thumbnail a ThumbHash that decodes to red pixels', async () => {
    const placeholder = await makePlaceholder(await solid(128, 96, '#e01010', 'webp'));
    const { w, h, rgba } = decoded(placeholder);
    assert.ok(placeholder !== null && Buffer.from(placeholder, 'base64').length <= 25, `a ThumbHash is at most 25 bytes: ${String(placeholder)}`);
    assert.ok(Math.abs(w / h - 128 / 96) < 0.2, `keeps the proportions: ${String(w)}x${String(h)}`);
    const [r, g, b, a] = meanRgba(rgba);
    assert.ok(r > 180 && g < 60 && b < 60 && a > 250, `reddish: ${[r, g, b, a].map(Math.round).join(',')}`);
  });

  it('gives different images different hashes, and the same image the same one', async () => {
    const [sky, dusk, sky2] = await Promise.all([scene(128, 85, 210), scene(128, 85, 20), scene(128, 85, 210)]);
    const [a, b, c] = await Promise.all([sky, dusk, sky2].map((t) => makePlaceholder(t)));
    assert.ok(a !== null && b !== null);
    assert.notEqual(a, b);
    assert.equal(a, c);
  });

  it('reads grey and transparent thumbnails as colour with alpha', async () => {
    const grey = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#808080' } }).toColourspace('b-w').png().toBuffer();
    const [r, g, b] = meanRgba(decoded(await makePlaceholder(grey)).rgba);
    assert.ok([r, g, b].every((v) => Math.abs(v - 128) < 16), `grey: ${[r, g, b].map(Math.round).join(',')}`);
    const clear = await sharp({ create: { width: 64, height: 64, channels: 4, background: { r: 0, g: 0, b: 255, alpha: 0 } } }).png().toBuffer();
    const hash = await makePlaceholder(clear);
    assert.ok(hash !== null);
    assert.ok(thumbHashToAverageRGBA(Buffer.from(hash, 'base64')).a < 0.1, 'transparent stays transparent');
  });

  it('gives null, never an error, for bytes that are not an image', async () => {
    assert.equal(await makePlaceholder(Buffer.from('not an image at all')), null);
    assert.equal(await makePlaceholder(Buffer.alloc(0)), null);
    const truncated = (await solid(128, 128, '#00ff00', 'jpeg')).subarray(0, 200);
    assert.equal(await makePlaceholder(truncated), null);
  });
});

describe('placeholderDataUrl', () => {
  it('renders a ThumbHash as a small WebP of its colours', async () => {
    const placeholder = await makePlaceholder(await solid(128, 64, '#1040d0', 'png'));
    const url = await placeholderDataUrl(placeholder ?? '');
    assert.ok(url !== null && url.startsWith('data:image/webp;base64,'), String(url));
    assert.ok(url.length < 600, `a few hundred characters: ${String(url.length)}`);
    const picture = sharp(Buffer.from(url.slice(url.indexOf(',') + 1), 'base64'));
    const { width, height } = await picture.metadata();
    assert.ok(width <= 32 && height <= 32 && width > height, `${String(width)}x${String(height)}`);
    const { channels: [r, g, b] } = await picture.stats();
    assert.ok(r && g && b && b.mean > 150 && r.mean < 60, `bluish: ${String(r?.mean)},${String(g?.mean)},${String(b?.mean)}`);
  });

  it('gives null for a stored value that is no ThumbHash', async () => {
    for (const value of ['', 'not base64!', 'A'.repeat(200), '"</style><script>']) {
      assert.equal(await placeholderDataUrl(value), null, JSON.stringify(value));
    }
  });
});
