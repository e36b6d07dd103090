// GET|HEAD /imgs/<id>/s/<signature>/<box>[.<ext>]: renditions of any box, served only when
// signed with --signing_key; the signing, verifying and box grammar as pure functions.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { BadVariantBox } from '../../src/errors.js';
import { parseBox, sign, signedPath, verify } from '../../src/variants/signing.js';
import { photo } from '../helpers/images.js';
import { startTestServer, type TestServer, type UploadedImage } from '../helpers/server.js';

const KEY = 'correct horse battery staple';
const bytesOf = async (res: Response) => Buffer.from(await res.arrayBuffer());
const errorOf = async (res: Response) => ((await res.json()) as { error: string }).error;

/** 400 x 400: the top half red, the bottom half blue, so a crop shows which part it kept. */
const redOverBlue = () => sharp({ create: { width: 400, height: 400, channels: 3, background: '#ff0000' } })
  .composite([{ input: { create: { width: 400, height: 200, channels: 3, background: '#0000ff' } }, top: 200, left: 0 }])
  .png().toBuffer();

describe('signing', () => {
  it('signs `<id>/<box>[.<ext>]` with HMAC-SHA256 in base64url, as `openssl dgst -sha256 -hmac` does', () => {
    // printf %s 'AAAAAAAAAAAAAAAA/600x400-cover-north.webp' | openssl dgst -sha256 -hmac "$KEY" -binary | base64 | tr '+/' '-_' | tr -d =
    assert.equal(sign(KEY, 'AAAAAAAAAAAAAAAA', '600x400-cover-north.webp'), 'aVzQLw9cSSl2vuhUyZT2UR-l4XHvUZAcIvc0Lg-4UH4');
    assert.equal(signedPath(KEY, 'AAAAAAAAAAAAAAAA', '600x400-cover-north.webp'),
      '/imgs/AAAAAAAAAAAAAAAA/s/aVzQLw9cSSl2vuhUyZT2UR-l4XHvUZAcIvc0Lg-4UH4/600x400-cover-north.webp');
  });

  it('verifies only the signature of that key, id and box', () => {
    const good = sign(KEY, 'AAAAAAAAAAAAAAAA', '300x200');
    assert.equal(verify(KEY, 'AAAAAAAAAAAAAAAA', '300x200', good), true);
    assert.equal(verify('another key', 'AAAAAAAAAAAAAAAA', '300x200', good), false);
    assert.equal(verify(KEY, 'BAAAAAAAAAAAAAAA', '300x200', good), false);
    assert.equal(verify(KEY, 'AAAAAAAAAAAAAAAA', '300x201', good), false);
    assert.equal(verify(KEY, 'AAAAAAAAAAAAAAAA', '300x200.webp', good), false);
    assert.equal(verify(KEY, 'AAAAAAAAAAAAAAAA', '300x200', `${good.slice(0, -1)}${good.endsWith('A') ? 'B' : 'A'}`), false);
    assert.equal(verify(KEY, 'AAAAAAAAAAAAAAAA', '300x200', `${good}=`), false, 'padding is not the canonical spelling');
    assert.equal(verify(KEY, 'AAAAAAAAAAAAAAAA', '300x200', ''), false);
  });

  it('reads each box into the rendition it names', () => {
    for (const [box, spec] of [
      ['600x400', { width: 600, height: 400, fit: 'inside', format: 'family' }],
      ['600x0.webp', { width: 600, height: 0, fit: 'inside', format: 'webp' }],
      ['0x8192.jpg', { width: 0, height: 8192, fit: 'inside', format: 'jpeg' }],
      ['600x400-cover.png', { width: 600, height: 400, fit: 'cover', format: 'png' }],
      ['1x1-cover-attention.gif', { width: 1, height: 1, fit: 'cover', gravity: 'attention', format: 'gif' }],
      ['600x400-cover-northwest.avif', { width: 600, height: 400, fit: 'cover', gravity: 'northwest', format: 'avif' }],
    ] as const) {
      const negotiated = !box.includes('.');
      assert.deepEqual(parseBox(box, undefined, true), negotiated ? { spec, negotiated, withoutAvif: 'family' } : { spec, negotiated }, box);
    }
    assert.equal(parseBox('600x400', 'image/avif,image/webp', true).spec.format, 'avif');
    assert.equal(parseBox('600x400', 'image/avif,image/webp', false).spec.format, 'webp');
    assert.equal(parseBox('600x400', 'image/avif,image/webp', true).withoutAvif, 'webp', 'for an animation, which AVIF cannot hold');
  });

  it('refuses a box that is malformed, unbounded, too large or of an unknown gravity or extension', () => {
    for (const box of ['', '600', '600x', 'x400', '600X400', '0600x400', '-1x400', '600x400-inside', '600x400-cover-', '600x400-cover-up',
      '600x400-cover-ce', '600x400.jpeg', '600x400.svg', '600x400.', '8193x1', '1x8193', '99999x1', '0x0', '600x0-cover', '600x400/x',
      ' 600x400', '600x400-cover-north-east']) {
      assert.throws(() => parseBox(box, undefined, true), (err) => err instanceof BadVariantBox && err.status === 400, `'${box}'`);
      assert.throws(() => signedPath(KEY, 'AAAAAAAAAAAAAAAA', box), BadVariantBox, `'${box}'`);
    }
  });
});

describe('signed variants on a server with --signing_key', () => {
  let s: TestServer;
  let wide: UploadedImage;
  let bands: UploadedImage;
  const encodes = () => s.server.library.variants.encodes;
  const get = (id: string, box: string, accept = '*/*') => s.fetch(signedPath(KEY, id, box), { headers: { accept } });
  const dimensions = async (res: Response) => {
    const meta = await sharp(await bytesOf(res)).metadata();
    return [meta.format, meta.width, meta.height];
  };
  before(async () => {
    s = await startTestServer({ signing_key: KEY });
    wide = await s.uploadOk(await photo(1200, 600, 'jpeg'));
    bands = await s.uploadOk(await redOverBlue());
  });
  after(() => s.close());

  it('serves any box fitted inside, a cover crop of exactly that size, never enlarged', async () => {
    for (const [box, expected] of [
      ['600x0.webp', ['webp', 600, 300]],
      ['0x150.png', ['png', 300, 150]],
      ['500x500.jpg', ['jpeg', 500, 250]],
      ['300x300-cover.jpg', ['jpeg', 300, 300]],
      ['200x500-cover-east.webp', ['webp', 200, 500]],
      ['4000x4000.webp', ['webp', 1200, 600]],
      ['2400x300-cover.webp', ['webp', 1200, 300]],
    ] as const) {
      const res = await get(wide.id, box);
      assert.equal(res.status, 200, box);
      assert.equal(res.headers.get('vary'), null, `${box}: the extension fixes the format`);
      assert.deepEqual(await dimensions(res), expected, box);
    }
  });

  it('crops towards the gravity asked for', async () => {
    const meanColour = async (box: string) => {
      const res = await get(bands.id, box);
      assert.equal(res.status, 200, box);
      const { channels } = await sharp(await bytesOf(res)).stats();
      return channels.slice(0, 3).map((c) => Math.round(c.mean / 255));
    };
    assert.deepEqual(await meanColour('400x100-cover-north.png'), [1, 0, 0]);
    assert.deepEqual(await meanColour('400x100-cover-south.png'), [0, 0, 1]);
  });

  it('takes the format from Accept without an extension, and says it varies by Accept', async () => {
    for (const [accept, mime] of [['image/avif,image/webp,*/*', 'image/avif'], ['image/webp,*/*', 'image/webp'], ['*/*', 'image/jpeg']] as const) {
      const res = await get(wide.id, '240x240-cover', accept);
      assert.equal(res.status, 200, accept);
      assert.equal(res.headers.get('content-type'), mime, accept);
      assert.equal(res.headers.get('vary'), 'Accept');
      const meta = await sharp(await bytesOf(res)).metadata();
      assert.deepEqual([meta.width, meta.height], [240, 240], accept);
    }
  });

  it('answers HEAD, and 304 on its ETag, with the headers of any stored image', async () => {
    const path = signedPath(KEY, wide.id, '320x320-cover.webp');
    const head = await s.fetch(path, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-type'), 'image/webp');
    assert.match(head.headers.get('cache-control') ?? '', /immutable/);
    const etag = head.headers.get('etag') ?? '';
    assert.match(etag, /^"[0-9a-f]{64}"$/);
    assert.equal((await s.fetch(path, { headers: { 'if-none-match': etag } })).status, 304);
  });

  it('makes each rendition once, shared with a named size of the same box and by every spelling of it', async () => {
    const named = await s.fetch(`/imgs/${wide.id}/medium.webp`);
    assert.equal(named.status, 200);
    const before = encodes();
    for (const box of ['800x800.webp', '800x800.webp']) {
      const res = await get(wide.id, box);
      assert.equal(res.headers.get('etag'), named.headers.get('etag'), box);
    }
    const cover = await get(wide.id, '100x100-cover.webp');
    const centre = await get(wide.id, '100x100-cover-centre.webp');
    assert.equal(centre.headers.get('etag'), cover.headers.get('etag'));
    assert.equal(encodes(), before + 1, 'only the first cover crop was encoded');
  });

  it('refuses an unsigned, altered or foreign signature with 403, and encodes nothing', async () => {
    const good = signedPath(KEY, wide.id, '300x300.webp');
    const signature = sign(KEY, wide.id, '300x300.webp');
    const flipped = `${signature.slice(0, 10)}${signature[10] === 'a' ? 'b' : 'a'}${signature.slice(11)}`;
    const before = encodes();
    for (const path of [
      `/imgs/${wide.id}/s/unsigned/300x300.webp`,
      `/imgs/${wide.id}/s/${flipped}/300x300.webp`,
      good.replace('300x300.webp', '300x301.webp'),
      good.replace('300x300.webp', '300x300.png'),
      good.replace('300x300.webp', '300x300'),
      good.replace(wide.id, bands.id),
      signedPath('another key', wide.id, '300x300.webp'),
      signedPath(KEY, wide.id, '300x300.webp').replace(signature, signature.toUpperCase()),
    ]) {
      const res = await s.fetch(path);
      assert.equal(res.status, 403, path);
      assert.equal(await errorOf(res), 'BAD_SIGNATURE', path);
    }
    assert.equal(encodes(), before);
  });

  it('refuses a signed box out of range with 400, and a signed unknown id with 404', async () => {
    const before = encodes();
    for (const box of ['8193x100.webp', '0x0', '300x0-cover', '300x300-cover-up', '300x300.bmp']) {
      const res = await s.fetch(`/imgs/${wide.id}/s/${sign(KEY, wide.id, box)}/${box}`);
      assert.equal(res.status, 400, box);
      assert.equal(await errorOf(res), 'BAD_VARIANT_BOX', box);
    }
    const missing = 'AAAAAAAAAAAAAAAA';
    assert.equal((await s.fetch(signedPath(KEY, missing, '300x300.webp'))).status, 404);
    assert.equal(encodes(), before);
  });
});

describe('signed variants on a server without --signing_key', () => {
  let s: TestServer;
  before(async () => { s = await startTestServer(); });
  after(() => s.close());

  it('does not serve them (404 saying so), whatever they were signed with, while named sizes work', async () => {
    const image = await s.uploadOk(await photo(400, 300, 'jpeg'));
    for (const key of [KEY, '']) {
      const res = await s.fetch(`/imgs/${image.id}/s/${sign(key, image.id, '100x100.webp')}/100x100.webp`);
      assert.equal(res.status, 404);
      assert.equal(await errorOf(res), 'SIGNED_URLS_DISABLED');
    }
    assert.equal(s.server.library.variants.encodes, 0);
    assert.equal((await s.fetch(`/imgs/${image.id}/small.webp`)).status, 200);
  });
});
