import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UnsupportedFormat } from '../../src/errors.js';
import { acceptedFormat, formatMime, thumbFormats } from '../../src/images/formats.js';

describe('the formats table', () => {
  it('accepts JPEG, PNG, WebP, GIF, AVIF and TIFF, each with its MIME type, and nothing else', () => {
    for (const [name, mime] of [['jpeg', 'image/jpeg'], ['png', 'image/png'], ['webp', 'image/webp'], ['gif', 'image/gif'], ['avif', 'image/avif'], ['tiff', 'image/tiff']]) {
      assert.equal(acceptedFormat(name ?? '')?.mime, mime);
    }
    for (const name of ['heic', 'svg', 'jxl', 'pdf', 'JPEG']) assert.equal(acceptedFormat(name), undefined, name);
  });

  it('names them all when it refuses another format', () => {
    assert.equal(new UnsupportedFormat('HEIC').message, 'HEIC files are not accepted; send JPEG, PNG, WebP, GIF, AVIF or TIFF');
  });

  it('makes thumbnails only in encodings every browser shows', () => {
    assert.deepEqual(thumbFormats, ['jpeg', 'png', 'webp', 'avif']);
    assert.equal(formatMime('webp'), 'image/webp');
  });
});
