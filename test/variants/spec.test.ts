// The --variants option and the choice of a variant's format from Accept: pure logic.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/errors.js';
import { formatOfExtension, MAX_VARIANT_SIZE, negotiatedFormat, parseVariants } from '../../src/variants/spec.js';
import { startTestServer } from '../helpers/server.js';

describe('--variants', () => {
  it('reads NAME:SIZE pairs, the default among them', () => {
    assert.deepEqual([...parseVariants('small:320,medium:800,large:1600')], [['small', 320], ['medium', 800], ['large', 1600]]);
    assert.deepEqual([...parseVariants(' hd_2-x:1920 , ')], [['hd_2-x', 1920]]);
    assert.deepEqual([...parseVariants('')], []);
  });

  it('refuses malformed names, reserved names, repeats and sizes out of range', () => {
    for (const bad of ['Small:320', '2x:320', 'small', 'small:', 'small:32.5', 'small:0', `small:${String(MAX_VARIANT_SIZE + 1)}`,
      'orig:320', 'thumb:128', 'a:1,a:2', 'a:1:2', 'small.webp:320']) {
      assert.throws(() => parseVariants(bad), ConfigError, bad);
    }
  });

  it('stops the server from starting when invalid', async () => {
    await assert.rejects(startTestServer({ variants: 'thumb:128' }), ConfigError);
  });
});

describe('a variant format', () => {
  it('is fixed by the extension, jpg naming JPEG; other extensions are none', () => {
    assert.equal(formatOfExtension('jpg'), 'jpeg');
    assert.equal(formatOfExtension('avif'), 'avif');
    assert.equal(formatOfExtension('jpeg'), undefined);
    assert.equal(formatOfExtension('constructor'), undefined);
  });

  it('is AVIF when accepted and enabled, else WebP when accepted, else the original family', () => {
    assert.equal(negotiatedFormat('image/avif,image/webp,*/*', true), 'avif');
    assert.equal(negotiatedFormat('image/avif,image/webp,*/*', false), 'webp');
    assert.equal(negotiatedFormat('image/avif,*/*', false), 'family');
    assert.equal(negotiatedFormat('IMAGE/WEBP', true), 'webp');
    assert.equal(negotiatedFormat('image/webp;q=0,*/*', true), 'family');
    assert.equal(negotiatedFormat('*/*', true), 'family');
    assert.equal(negotiatedFormat('image/*', true), 'family');
    assert.equal(negotiatedFormat(undefined, true), 'family');
  });
});
