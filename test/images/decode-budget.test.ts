// The decode estimate from a header: what each format's decoder must hold, so that the default
// budget refuses the memory bombs found within max_pixels and lets ordinary large images through.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaults } from '../../src/config/options.js';
import { decodeBytes, type HeaderFacts } from '../../src/images/decode-budget.js';

const MB = 1_000_000;
const side = 10_000; // 100 megapixels: the default max_pixels
const big = { width: side, frameHeight: side, frames: 1 };

const rgbJpeg = { ...big, format: 'jpeg', channels: 3, depth: 'uchar', chromaSubsampling: '4:2:0' };
const rgbaPng16 = { ...big, format: 'png', channels: 4, depth: 'ushort' };
const avif8 = { ...big, format: 'avif', channels: 3, depth: 'uchar', bitsPerSample: 8 };

describe('decode estimate', () => {
  it('costs a baseline JPEG a few rows, a progressive one all its coefficients at their sampling', () => {
    assert.ok(decodeBytes(rgbJpeg) < 32 * MB);
    assert.equal(decodeBytes({ ...rgbJpeg, isProgressive: true }), 300 * MB, '2 bytes x (1 + 2 x 1/4) planes');
    assert.equal(decodeBytes({ ...rgbJpeg, isProgressive: true, chromaSubsampling: '4:4:4' }), 600 * MB);
    assert.equal(decodeBytes({ ...rgbJpeg, isProgressive: true, channels: 4, chromaSubsampling: '4:4:4:4' }), 800 * MB, 'CMYK: four full planes');
    assert.equal(decodeBytes({ ...rgbJpeg, isProgressive: true, channels: 1, chromaSubsampling: undefined }), 200 * MB, 'greyscale: one plane');
  });

  it('costs an interlaced PNG its whole frame at its depth, a plain one a few rows', () => {
    assert.equal(decodeBytes({ ...rgbaPng16, isProgressive: true }), 800 * MB);
    assert.equal(decodeBytes({ ...rgbaPng16, depth: 'uchar', isProgressive: true }), 400 * MB);
    assert.ok(decodeBytes(rgbaPng16) < 32 * MB);
  });

  it('costs a GIF an RGBA canvas per frame it composes, two for an animation', () => {
    const gif = { ...big, format: 'gif', channels: 4, depth: 'uchar' };
    assert.equal(decodeBytes(gif), 400 * MB);
    assert.equal(decodeBytes({ ...gif, width: 5000, frameHeight: 5000, frames: 4 }), 200 * MB, 'frames beyond the first are not decoded');
  });

  it('costs an AVIF several times its frame at its sample size: bit depth and alpha count', () => {
    assert.equal(decodeBytes(avif8), 1800 * MB);
    assert.equal(decodeBytes({ ...avif8, channels: 4 }), 2400 * MB);
    assert.equal(decodeBytes({ ...avif8, channels: 4, depth: 'ushort', bitsPerSample: 12 }), 3200 * MB);
    assert.equal(decodeBytes({ ...avif8, depth: 'ushort', bitsPerSample: 10 }), 2400 * MB, '10-bit decodes to 16-bit samples');
  });

  it('costs a still WebP a few rows plus its alpha plane, an animation its canvases', () => {
    const webp = { ...big, format: 'webp', channels: 3, depth: 'uchar' };
    assert.ok(decodeBytes(webp) < 32 * MB);
    assert.ok(decodeBytes({ ...webp, channels: 4, hasAlpha: true }) - decodeBytes(webp) >= 100 * MB);
    assert.equal(decodeBytes({ ...webp, width: 4000, frameHeight: 2500, frames: 10 }), 80 * MB);
  });

  it('costs a TIFF its whole frame at its depth (one strip may hold it all)', () => {
    assert.equal(decodeBytes({ ...big, format: 'tiff', channels: 3, depth: 'uchar' }), 300 * MB);
    assert.equal(decodeBytes({ ...big, format: 'tiff', channels: 1, depth: 'float' }), 400 * MB);
  });

  describe('against the default decode_budget', () => {
    const budget = defaults().decode_budget;
    const refused: [string, HeaderFacts][] = [
      ['a 12-bit AVIF with alpha', { ...avif8, channels: 4, depth: 'ushort', bitsPerSample: 12 }],
      ['an 8-bit AVIF', avif8],
      ['an interlaced 16-bit RGBA PNG', { ...rgbaPng16, isProgressive: true }],
      ['a progressive CMYK JPEG', { ...rgbJpeg, isProgressive: true, channels: 4, chromaSubsampling: '4:4:4:4' }],
      ['a GIF', { ...big, format: 'gif', channels: 4, depth: 'uchar' }],
    ];
    for (const [name, facts] of refused) {
      it(`refuses ${name} of 100 megapixels`, () => { assert.ok(decodeBytes(facts) > budget); });
    }
    const passed: [string, HeaderFacts][] = [
      ['a baseline JPEG photo of 100 megapixels', rgbJpeg],
      ['a progressive JPEG photo of 100 megapixels', { ...rgbJpeg, isProgressive: true }],
      ['a PNG of 100 megapixels, 16-bit RGBA', rgbaPng16],
      ['an interlaced 8-bit RGB PNG of 100 megapixels', { ...rgbaPng16, channels: 3, depth: 'uchar', isProgressive: true }],
      ['a 100-megapixel WebP', { ...big, format: 'webp', channels: 3, depth: 'uchar' }],
      ['a 100-megapixel 8-bit RGB TIFF', { ...big, format: 'tiff', channels: 3, depth: 'uchar' }],
      ['a 12-megapixel 8-bit AVIF from a phone', { ...avif8, width: 4000, frameHeight: 3000 }],
    ];
    for (const [name, facts] of passed) {
      it(`accepts ${name}`, () => { assert.ok(decodeBytes(facts) <= budget); });
    }
  });
});
