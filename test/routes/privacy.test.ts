// Privacy through the API: a photo's location and camera never reach the stored original or its
// thumbnail; the sha256, size and ETag the server gives describe the bytes it serves; duplicates
// are found on the stripped bytes; --strip_metadata=false stores uploads exactly as sent.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { orientationOnly } from '../../src/images/strip/exif.js';
import { gifHtmlPolyglot } from '../helpers/hostile.js';
import { photo } from '../helpers/images.js';
import { jpegVariant } from '../helpers/jpeg.js';
import { hasGps, IDENTIFYING, identifyingPhoto } from '../helpers/metadata.js';
import { startTestServer, type TestServer, type UploadedImage } from '../helpers/server.js';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

async function served(s: TestServer, path: string): Promise<{ body: Buffer; etag: string | null }> {
  const res = await s.fetch(path);
  assert.equal(res.status, 200, path);
  return { body: Buffer.from(await res.arrayBuffer()), etag: res.headers.get('etag') };
}

/** Asserts a thumbnail carries no metadata at all. */
async function assertBareThumbnail(s: TestServer, image: UploadedImage): Promise<void> {
  const { body } = await served(s, image.thumb_url);
  const meta = await sharp(body).metadata();
  assert.deepEqual([meta.exif, meta.xmp, meta.iptc, meta.icc, meta.comments], [undefined, undefined, undefined, undefined, undefined], `${image.thumb.mime} thumbnail`);
  for (const text of Object.values(IDENTIFYING)) assert.ok(!body.includes(text));
}

describe('uploads with identifying metadata (--strip_metadata, the default)', () => {
  let s: TestServer;
  before(async () => { s = await startTestServer(); });
  after(() => s.close());

  for (const format of ['jpeg', 'png', 'webp'] as const) {
    it(`stores a ${format} photo without its GPS, camera and XMP, keeping orientation and pixels; sha256 and ETag describe the served bytes`, async () => {
      const original = await identifyingPhoto(format, 60, 40);
      const image = await s.uploadOk(original, { filename: `photo.${format}` });
      const { body, etag } = await served(s, image.url);
      assert.equal(image.sha256, sha256(body));
      assert.equal(image.bytes, body.length);
      assert.equal(etag, `"${image.sha256}"`);
      assert.notEqual(image.sha256, sha256(original));

      const meta = await sharp(body).metadata();
      assert.ok(!hasGps(meta.exif), 'no GPS directory');
      assert.equal(meta.xmp, undefined);
      assert.equal(meta.orientation, 6);
      for (const text of Object.values(IDENTIFYING)) assert.ok(!body.includes(text), `${text} is gone`);
      // Displayed sideways (orientation 6) and not re-encoded.
      assert.deepEqual([image.width, image.height], [40, 60]);
      assert.deepEqual(await sharp(body).raw().toBuffer(), await sharp(original).raw().toBuffer());
      await assertBareThumbnail(s, image);
    });
  }

  it('finds duplicates on the stripped bytes: the same picture with different comments is one blob', async () => {
    const base = await photo(50, 40);
    const [a, b] = [jpegVariant(base, 'shot at home'), jpegVariant(base, 'shot at work')];
    const first = await s.uploadOk(a);
    const second = await s.uploadOk(b);
    assert.notEqual(first.id, second.id);
    assert.equal(first.sha256, second.sha256);
    assert.equal(first.sha256, sha256(base));
  });

  it('serves a GIF/HTML polyglot without its script: the comment and what follows the trailer are gone', async () => {
    const image = await s.uploadOk(gifHtmlPolyglot(), { filename: 'page.html', type: 'text/html' });
    const { body } = await served(s, image.url);
    assert.ok(!body.includes('<script>'));
    assert.equal(image.sha256, sha256(body));
    assert.equal((await sharp(body).metadata()).format, 'gif');
  });
});

describe('thumbnails in every format', () => {
  for (const thumbFormat of ['jpeg', 'webp', 'avif'] as const) {
    it(`carry no metadata as ${thumbFormat}, even with stripping off`, async () => {
      const s = await startTestServer({ thumb_format: thumbFormat, strip_metadata: false });
      try {
        await assertBareThumbnail(s, await s.uploadOk(await identifyingPhoto('jpeg', 60, 40)));
      } finally {
        await s.close();
      }
    });
  }
});

describe('--strip_metadata=false', () => {
  let s: TestServer;
  before(async () => { s = await startTestServer({ strip_metadata: false }); });
  after(() => s.close());

  it('stores the upload exactly as sent, metadata and all', async () => {
    const original = await identifyingPhoto('jpeg');
    const image = await s.uploadOk(original);
    const { body } = await served(s, image.url);
    assert.deepEqual(body, original);
    assert.equal(image.sha256, sha256(original));
    assert.ok(hasGps((await sharp(body).metadata()).exif));
    assert.notDeepEqual((await sharp(body).metadata()).exif?.subarray(6), orientationOnly(6));
  });
});
