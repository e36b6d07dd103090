// GET|HEAD /imgs/<id>/<name>[.<ext>]: named variants, made on first request by real sharp, stored
// in the blob store and recorded in SQLite, on the real server.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import sharp from 'sharp';
import { photo, rotatedJpeg, solid } from '../helpers/images.js';
import { startTestServer, type TestServer, type UploadedImage } from '../helpers/server.js';

const bytesOf = async (res: Response) => Buffer.from(await res.arrayBuffer());
const etagHash = (res: Response) => (res.headers.get('etag') ?? '').replaceAll('"', '');

describe('named variants', () => {
  let s: TestServer;
  let jpeg: UploadedImage;
  const encodes = () => s.server.library.variants.encodes;
  const get = (path: string, accept = '*/*') => s.fetch(path, { headers: { accept } });
  before(async () => {
    s = await startTestServer();
    jpeg = await s.uploadOk(await photo(1200, 600, 'jpeg'), { filename: 'wide.jpg' });
  });
  after(() => s.close());

  it('fits the longest side in the named box, and never enlarges past the original', async () => {
    for (const [name, width, height] of [['small', 320, 160], ['medium', 800, 400], ['large', 1200, 600]] as const) {
      const res = await get(`/imgs/${jpeg.id}/${name}.webp`);
      assert.equal(res.status, 200, name);
      const meta = await sharp(await bytesOf(res)).metadata();
      assert.deepEqual([meta.format, meta.width, meta.height], ['webp', width, height], name);
    }
  });

  it('takes the format from the extension, without Vary', async () => {
    for (const [ext, format, mime] of [['png', 'png', 'image/png'], ['jpg', 'jpeg', 'image/jpeg'], ['gif', 'gif', 'image/gif'], ['avif', 'heif', 'image/avif']] as const) {
      const res = await get(`/imgs/${jpeg.id}/small.${ext}`, 'image/webp');
      assert.equal(res.status, 200, ext);
      assert.equal(res.headers.get('content-type'), mime);
      assert.equal(res.headers.get('vary'), null);
      assert.equal((await sharp(await bytesOf(res)).metadata()).format, format);
    }
  });

  it('chooses AVIF, then WebP, then the original family from Accept, and says it varies by Accept', async () => {
    const translucent = { width: 400, height: 300, channels: 4, background: { r: 0, g: 90, b: 200, alpha: 0.5 } } as const;
    const png = await s.uploadOk(await sharp({ create: translucent }).png().toBuffer());
    const gif = await s.uploadOk(await solid(400, 300, '#cc3366', 'gif'));
    for (const [id, accept, mime] of [
      [jpeg.id, 'image/avif,image/webp,*/*', 'image/avif'],
      [jpeg.id, 'image/avif;q=0,image/webp,*/*', 'image/webp'],
      [jpeg.id, 'image/webp,*/*', 'image/webp'],
      [jpeg.id, '*/*', 'image/jpeg'],
      [png.id, 'image/png,*/*', 'image/png'],
      [gif.id, 'text/html,*/*;q=0.8', 'image/gif'],
    ] as const) {
      const res = await get(`/imgs/${id}/small`, accept);
      assert.equal(res.status, 200, accept);
      assert.equal(res.headers.get('content-type'), mime, `${accept} for ${id}`);
      assert.equal(res.headers.get('vary'), 'Accept');
      const meta = await sharp(await bytesOf(res)).metadata();
      assert.equal(meta.width, 320);
      assert.equal(meta.exif, undefined);
    }
  });

  it('applies the EXIF orientation, converts to sRGB and keeps no metadata', async () => {
    const rotated = await s.uploadOk(await rotatedJpeg(600, 400));
    const p3 = await sharp(await photo(600, 400, 'png')).withIccProfile('p3').withExif({ IFD0: { Artist: 'someone' } }).jpeg().toBuffer();
    const wide = await s.uploadOk(p3);
    assert.notEqual((await sharp(await bytesOf(await get(wide.url))).metadata()).icc, undefined, 'the original keeps its profile');
    for (const ext of ['webp', 'jpg', 'png', 'avif']) {
      const turned = await sharp(await bytesOf(await get(`/imgs/${rotated.id}/small.${ext}`))).metadata();
      assert.deepEqual([turned.width, turned.height, turned.orientation, turned.exif], [213, 320, undefined, undefined], ext);
      const converted = await sharp(await bytesOf(await get(`/imgs/${wide.id}/small.${ext}`))).metadata();
      assert.deepEqual([converted.icc, converted.exif, converted.space], [undefined, undefined, 'srgb'], ext);
    }
  });

  it('is served like an original: strong ETag of its blob, 304, ranges, immutable, nosniff, sandbox', async () => {
    const res = await get(`/imgs/${jpeg.id}/medium.jpg`);
    const body = await bytesOf(res);
    assert.match(res.headers.get('etag') ?? '', /^"[0-9a-f]{64}"$/);
    assert.equal(res.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.match(res.headers.get('content-security-policy') ?? '', /sandbox/);
    const again = await s.fetch(`/imgs/${jpeg.id}/medium.jpg`, { headers: { 'if-none-match': res.headers.get('etag') ?? '' } });
    assert.equal(again.status, 304);
    const part = await s.fetch(`/imgs/${jpeg.id}/medium.jpg`, { headers: { range: 'bytes=0-99' } });
    assert.equal(part.status, 206);
    assert.deepEqual(await bytesOf(part), body.subarray(0, 100));
    const head = await s.fetch(`/imgs/${jpeg.id}/medium.jpg`, { method: 'HEAD' });
    assert.equal(head.headers.get('content-length'), String(body.length));
  });

  it('answers 404 in JSON for a name or extension not offered', async () => {
    for (const path of ['huge', 'small.bmp', 'small.', 'orig.webp', 'thumb.png', 'Small']) {
      const res = await get(`/imgs/${jpeg.id}/${path}`, 'text/html');
      assert.equal(res.status, 404, path);
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/, path);
      assert.equal(((await res.json()) as { status: number }).status, 404);
    }
    assert.equal((await get('/imgs/AAAAAAAAAAAAAAAA/small')).status, 404);
  });

  it('makes a variant once for 50 concurrent first requests, and never again after', async () => {
    const before = encodes();
    const answers = await Promise.all(Array.from({ length: 50 }, () => get(`/imgs/${jpeg.id}/medium.png`)));
    assert.ok(answers.every((res) => res.status === 200));
    assert.equal(new Set(answers.map(etagHash)).size, 1);
    await Promise.all(answers.map((res) => res.arrayBuffer()));
    assert.equal(encodes(), before + 1);
    assert.equal((await get(`/imgs/${jpeg.id}/medium.png`)).status, 200);
    assert.equal(encodes(), before + 1);
  });

  it('reuses the variants of a duplicate upload; a delete keeps them while another image has the original', async () => {
    const data = await photo(640, 480, 'jpeg');
    const first = await s.uploadOk(data);
    const made = await get(`/imgs/${first.id}/small.webp`);
    const hash = etagHash(made);
    const second = await s.uploadOk(data);
    const before = encodes();
    assert.equal(etagHash(await get(`/imgs/${second.id}/small.webp`)), hash);
    assert.equal(encodes(), before);
    const store = s.server.library.store;
    const del = (image: UploadedImage) => s.fetch(`/api/images/${image.id}`, { method: 'DELETE', headers: { 'x-delete-token': image.delete_token } });
    assert.equal((await del(first)).status, 204);
    assert.equal(await store.has(hash), true);
    assert.equal((await del(second)).status, 204);
    assert.equal(await store.has(hash), false);
    assert.equal(await s.server.library.repo.isReferenced(hash), false);
  });

  it('gc at grace 0 keeps the variant blobs of live images', async () => {
    const hash = etagHash(await get(`/imgs/${jpeg.id}/small.jpg`));
    const report = await s.server.library.collectGarbage(0);
    assert.ok(!report.blobs.includes(hash));
    assert.equal(await s.server.library.store.has(hash), true);
  });

  it('makes a variant again when its blob has gone missing', async () => {
    // Made without a GET, so that no copy of it waits in the server's memory.
    const { library } = s.server;
    const { hash } = await library.variant(await library.get(jpeg.id), library.variants.request('large', 'webp', undefined));
    assert.equal(await library.store.removeUnlessReferenced(hash, () => Promise.resolve(false)), true);
    const before = encodes();
    const res = await get(`/imgs/${jpeg.id}/large.webp`);
    assert.equal(res.status, 200);
    assert.equal(etagHash(res), hash);
    assert.equal(encodes(), before + 1);
    assert.equal(await s.server.library.store.has(hash), true);
  });
});

describe('variants whose stored files are damaged', () => {
  let s: TestServer;
  const encodes = () => s.server.library.variants.encodes;
  before(async () => { s = await startTestServer(); });
  after(() => s.close());

  /** An image whose medium.png was made and recorded, then lost its blob, and whose record names `hash`. */
  async function lostVariant(hash?: string) {
    const image = await s.uploadOk(await photo(900, 600, 'jpeg'));
    const { library } = s.server;
    const made = await library.variant(await library.get(image.id), library.variants.request('medium', 'png', undefined));
    await library.store.removeUnlessReferenced(made.hash, () => Promise.resolve(false));
    if (hash !== undefined) {
      await library.repo.removeVariant(made.origHash, made.spec, made.hash);
      await library.repo.insertVariant({ ...made, hash });
    }
    return { image, made };
  }

  it('answers a range of a variant made again in its new bytes, never with the range of the lost ones', async () => {
    const stale = 'e'.repeat(64);
    const { image, made } = await lostVariant(stale);
    const res = await s.fetch(`/imgs/${image.id}/medium.png`, { headers: { range: 'bytes=0-99', 'if-range': `"${stale}"` } });
    assert.equal(res.status, 200, 'If-Range named the lost bytes: the whole of the new ones');
    assert.equal(res.headers.get('content-range'), null);
    assert.equal(etagHash(res), made.hash);
    assert.equal((await bytesOf(res)).length, made.bytes);
  });

  it('remembers the records it served, so a cached variant costs no lookup of its own', async () => {
    const image = await s.uploadOk(await photo(640, 480, 'jpeg'));
    const first = await s.fetch(`/imgs/${image.id}/small.jpg`);
    const made = await s.server.library.repo.getVariant(image.sha256, '320:jpeg');
    assert.ok(made);
    // Forgotten in the database behind the server's back: the server still knows it.
    await s.server.library.repo.removeVariant(made.origHash, made.spec, made.hash);
    const before = encodes();
    const again = await s.fetch(`/imgs/${image.id}/small.jpg`);
    assert.deepEqual([again.status, etagHash(again), encodes()], [200, etagHash(first), before]);
  });

  it('answers an error for a variant that cannot be made again with nothing a cache would keep', async () => {
    const { image, made } = await lostVariant();
    await s.server.library.store.removeUnlessReferenced(made.origHash, () => Promise.resolve(false));
    const res = await s.fetch(`/imgs/${image.id}/medium.png`);
    assert.equal(res.status, 404);
    assert.equal((await res.json() as { error: string }).error, 'BLOB_MISSING');
    assert.equal(res.headers.get('cache-control'), 'no-store');
    for (const name of ['etag', 'last-modified', 'content-range']) assert.equal(res.headers.get(name), null, name);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  });

  it('remembers a variant the image cannot give, and answers it again without another encode', async () => {
    const image = await s.uploadOk(await photo(700, 500, 'jpeg'));
    await writeFile(join(s.dataDir, 'blobs', image.sha256.slice(0, 2), image.sha256.slice(2, 4), image.sha256), 'no longer an image');
    const before = encodes();
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await s.fetch(`/imgs/${image.id}/small.webp`)).status);
    assert.deepEqual(statuses, [400, 400, 400]);
    assert.equal(encodes(), before + 1, 'one encode for three requests');
    assert.equal((await s.fetch(`/imgs/${image.id}/small.png`)).status, 400);
    assert.equal(encodes(), before + 2, 'another rendition is tried on its own');
  });
});

describe('variants and the thumbnail work pool', () => {
  it('are made in the thumbnail process, and a full queue answers 503 with Retry-After, never a partial variant', async (t) => {
    const s = await startTestServer({ thumb_nice: 5, thumb_concurrency: 1, queue_limit: 0 });
    t.after(() => s.close());
    const image = await s.uploadOk(await photo(1200, 800, 'jpeg'));
    const names = ['small.webp', 'medium.webp', 'small.png', 'medium.png', 'small.jpg', 'medium.jpg'];
    const answers = await Promise.all(names.map((name) => s.fetch(`/imgs/${image.id}/${name}`)));
    const busy = answers.filter((res) => res.status === 503);
    assert.ok(busy.length > 0, 'some requests found the queue full');
    assert.ok(busy.every((res) => Number(res.headers.get('retry-after')) >= 1));
    assert.ok(answers.every((res) => res.status === 200 || res.status === 503));
    for (const name of names) {
      let res = await s.fetch(`/imgs/${image.id}/${name}`);
      while (res.status === 503) {
        await sleep(50);
        res = await s.fetch(`/imgs/${image.id}/${name}`);
      }
      assert.equal(res.status, 200);
      assert.equal((await sharp(await bytesOf(res)).metadata()).width, name.startsWith('small') ? 320 : 800);
    }
  });
});
