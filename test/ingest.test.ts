// Upload edge cases through HTTP: bodies streamed without a Content-Length, the size limit at
// its exact boundary, clients that give up half-way, malformed multipart bodies, unusual pixel
// formats, and duplicate uploads. After every refusal nothing may be left on disk.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { waitFor } from './helpers/async.js';
import { BOUNDARY, chunked, multipartBody, multipartHead, stalled, streamedInit } from './helpers/bodies.js';
import { photo, solid } from './helpers/images.js';
import { jpegOfSize } from './helpers/jpeg.js';
import { startTestServer, type TestServer, type UploadedImage } from './helpers/server.js';

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');
const MULTIPART = `multipart/form-data; boundary=${BOUNDARY}`;

interface ErrorJson { status: number; error: string; message: string }

/** Every file under the blob store, temporary ones included. */
async function storedFiles(dataDir: string): Promise<string[]> {
  const entries = await readdir(join(dataDir, 'blobs'), { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name)).sort();
}

const spooled = (dataDir: string): Promise<string[]> => readdir(join(dataDir, 'tmp'));

async function served(s: TestServer, path: string): Promise<Buffer> {
  const res = await s.fetch(path);
  assert.equal(res.status, 200, `GET ${path}`);
  return Buffer.from(await res.arrayBuffer());
}

async function created(res: Response): Promise<UploadedImage> {
  const text = await res.text();
  assert.equal(res.status, 201, text);
  return JSON.parse(text) as UploadedImage;
}

describe('uploads streamed without a Content-Length', () => {
  const LIMIT = 100_000;
  let s: TestServer;
  let small: Buffer;
  before(async () => {
    // Files of an exact size are padded with JPEG comments, which stripping would remove.
    s = await startTestServer({ max_upload_size: LIMIT, strip_metadata: false });
    small = await photo(200, 150);
    assert.ok(small.length < LIMIT / 2);
  });
  after(() => s.close());

  async function assertNothingKept(before: string[]): Promise<void> {
    assert.deepEqual(await spooled(s.dataDir), []);
    assert.deepEqual(await storedFiles(s.dataDir), before);
  }

  // Every body over the limit here stalls after its bytes instead of ending: only the server
  // answering as soon as the limit is passed lets these requests finish. A server that waits for
  // the rest instead would hang the test; `guard` turns that into a failure (a hang guard far
  // above the milliseconds the answer takes, not a timing assertion).
  const filler = Buffer.alloc(2 * LIMIT, 0x5a);
  const guard = (): AbortSignal => AbortSignal.timeout(15_000);

  it('refuses a raw image body once it passes max_upload_size (413), without waiting for the rest', async () => {
    const before = await storedFiles(s.dataDir);
    const res = await s.fetch('/api/images', streamedInit(stalled(filler), 'image/png', guard()));
    assert.equal(res.status, 413);
    const body = await res.json() as ErrorJson;
    assert.equal(body.error, 'TOO_LARGE');
    assert.match(body.message, /larger than the 98 KiB limit/);
    await assertNothingKept(before);
  });

  it('refuses a multipart file once it passes max_upload_size (413), without waiting for the rest', async () => {
    const before = await storedFiles(s.dataDir);
    const res = await s.fetch('/api/images', streamedInit(stalled(Buffer.concat([multipartHead({ type: 'image/png' }), filler])), MULTIPART, guard()));
    assert.equal(res.status, 413);
    assert.equal((await res.json() as ErrorJson).error, 'TOO_LARGE');
    await assertNothingKept(before);
  });

  it('refuses a multipart JPEG one byte over the limit with 413, rather than storing it cut short', async () => {
    const before = await storedFiles(s.dataDir);
    const res = await s.fetch('/api/images', streamedInit(stalled(Buffer.concat([multipartHead({ type: 'image/jpeg' }), jpegOfSize(small, LIMIT + 1)])), MULTIPART, guard()));
    assert.equal(res.status, 413);
    assert.equal((await res.json() as ErrorJson).error, 'TOO_LARGE');
    await assertNothingKept(before);
  });

  it('refuses a raw JPEG one byte over the limit with 413', async () => {
    const before = await storedFiles(s.dataDir);
    const res = await s.fetch('/api/images', streamedInit(stalled(jpegOfSize(small, LIMIT + 1)), 'image/jpeg', guard()));
    assert.equal(res.status, 413);
    await assertNothingKept(before);
  });

  it('accepts a multipart JPEG of exactly max_upload_size bytes', async () => {
    const exact = jpegOfSize(small, LIMIT);
    const image = await created(await s.fetch('/api/images', streamedInit(chunked(multipartBody(exact, { filename: 'exact.jpg' })), MULTIPART)));
    assert.deepEqual([image.bytes, image.sha256, image.width, image.height], [LIMIT, sha256(exact), 200, 150]);
    assert.deepEqual(await served(s, image.url), exact);
  });

  it('accepts a raw JPEG of exactly max_upload_size bytes', async () => {
    const exact = jpegOfSize(small, LIMIT);
    const image = await created(await s.fetch('/api/images', streamedInit(chunked(exact, 4096), 'image/jpeg')));
    assert.equal(image.bytes, LIMIT);
    assert.deepEqual(await served(s, image.url), exact);
  });

  it('stores a raw body under the limit whole, however it was chunked', async () => {
    const png = await photo(120, 80, 'png');
    assert.ok(png.length < LIMIT);
    const image = await created(await s.fetch('/api/images?name=chunked.png', streamedInit(chunked(png, 1000), 'image/png')));
    assert.deepEqual([image.format, image.width, image.height, image.name], ['png', 120, 80, 'chunked.png']);
    assert.equal(image.sha256, sha256(png));
    assert.deepEqual(await served(s, image.url), png);
    assert.equal((await served(s, image.thumb_url)).length, image.thumb.bytes);
    assert.deepEqual(await spooled(s.dataDir), []);
  });

  it('stores a multipart file under the limit whole, with chunks that split the boundaries', async () => {
    const body = multipartBody(small, { filename: 'split.jpg', type: 'image/jpeg' });
    // 7-byte chunks cut through the part headers and the closing boundary.
    const image = await created(await s.fetch('/api/images', streamedInit(chunked(body, 7), MULTIPART)));
    assert.equal(image.name, 'split.jpg');
    assert.deepEqual(await served(s, image.url), small);
  });
});

describe('a client that aborts mid-upload', () => {
  let s: TestServer;
  before(async () => { s = await startTestServer(); });
  after(() => s.close());

  for (const [kind, makeBody, contentType] of [
    ['a raw body', () => stalled(Buffer.alloc(64 * 1024, 0x5a)), 'image/png'],
    ['a multipart body', () => stalled(Buffer.concat([multipartHead({ type: 'image/png' }), Buffer.alloc(64 * 1024, 0x5a)])), MULTIPART],
  ] as const) {
    it(`leaves nothing behind when it aborts ${kind}, and the server stays ready`, async () => {
      const before = await storedFiles(s.dataDir);
      const controller = new AbortController();
      const request = s.fetch('/api/images', streamedInit(makeBody(), contentType, controller.signal));
      const settled = request.then(() => 'answered', (err: unknown) => (err as Error).name);
      // The body stalls half-way; abort once the server is spooling what came to disk.
      await waitFor(async () => (await spooled(s.dataDir)).length > 0, 'the upload to reach tmp/');
      controller.abort();
      assert.equal(await settled, 'AbortError');

      await waitFor(async () => (await spooled(s.dataDir)).length === 0, 'tmp/ to be emptied');
      assert.deepEqual(await storedFiles(s.dataDir), before);
      const ready = await s.fetch('/readyz');
      assert.equal(ready.status, 200);
      // And it still takes uploads.
      const image = await s.uploadOk(await solid(16, 16, '#123123'));
      assert.equal(image.width, 16);
    });
  }
});

describe('malformed multipart bodies', () => {
  let s: TestServer;
  let png: Buffer;
  before(async () => {
    s = await startTestServer();
    png = await solid(20, 20, '#3366cc');
  });
  after(() => s.close());

  // [what, body, content type, whether the server must read to the end to tell]. Only bodies read
  // to the end are also sent chunked: a server answering early closes the connection, and a
  // client still writing its chunks would see EPIPE instead of the answer.
  const cases: [string, () => Buffer, string, boolean][] = [
    ['no boundary parameter', () => multipartBody(png), 'multipart/form-data', false],
    ['an empty boundary parameter', () => multipartBody(png), 'multipart/form-data; boundary=', false],
    ['a boundary that does not occur in the body', () => multipartBody(png), 'multipart/form-data; boundary=somethingelse', true],
    ['a body that ends inside the file part', () => multipartBody(png).subarray(0, 200), MULTIPART, true],
    ['a body that ends inside the part headers', () => multipartHead().subarray(0, 50), MULTIPART, true],
    ['a part without a content-disposition', () => Buffer.concat([
      Buffer.from(`--${BOUNDARY}\r\ncontent-type: image/png\r\n\r\n`), png, Buffer.from(`\r\n--${BOUNDARY}--\r\n`),
    ]), MULTIPART, true],
    ['garbage instead of parts', () => Buffer.from('this is not multipart at all\r\n'), MULTIPART, true],
  ];
  for (const [what, make, type, readsToEnd] of cases) {
    it(`answers 4xx, not 500, for ${what}`, async () => {
      const body = make();
      const before = await storedFiles(s.dataDir);
      const sends = [() => s.fetch('/api/images', { method: 'POST', body: new Uint8Array(body), headers: { 'content-type': type } })];
      if (readsToEnd) sends.push(() => s.fetch('/api/images', streamedInit(chunked(body, 64), type)));
      for (const send of sends) {
        const res = await send();
        const json = await res.json() as ErrorJson;
        assert.ok(res.status >= 400 && res.status < 500, `answered ${String(res.status)}: ${JSON.stringify(json)}`);
        assert.equal(json.status, res.status);
      }
      assert.deepEqual(await spooled(s.dataDir), []);
      assert.deepEqual(await storedFiles(s.dataDir), before);
    });
  }
});

describe('unusual pixel formats', () => {
  let s: TestServer;
  before(async () => { s = await startTestServer(); });
  after(() => s.close());

  async function assertThumbnail(image: UploadedImage, width: number, height: number): Promise<void> {
    assert.deepEqual([image.thumb.width, image.thumb.height], [width, height]);
    const meta = await sharp(await served(s, image.thumb_url)).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height, meta.space], ['webp', width, height, 'srgb']);
  }

  it('accepts a CMYK JPEG with its dimensions and makes an sRGB thumbnail', async () => {
    const cmyk = await sharp({ create: { width: 320, height: 200, channels: 3, background: '#d04010' } })
      .toColourspace('cmyk').jpeg().toBuffer();
    assert.equal((await sharp(cmyk).metadata()).space, 'cmyk');
    const image = await s.uploadOk(cmyk, { filename: 'print.jpg' });
    assert.deepEqual([image.format, image.mime, image.width, image.height], ['jpeg', 'image/jpeg', 320, 200]);
    assert.deepEqual(await served(s, image.url), cmyk);
    await assertThumbnail(image, 128, 80);
  });

  it('accepts a 16-bit PNG with its dimensions and makes a thumbnail', async () => {
    const deep = await sharp({ create: { width: 150, height: 300, channels: 3, background: '#20a060' } })
      .toColourspace('rgb16').png().toBuffer();
    assert.equal((await sharp(deep).metadata()).depth, 'ushort');
    const image = await s.uploadOk(deep, { filename: 'deep.png' });
    assert.deepEqual([image.format, image.width, image.height], ['png', 150, 300]);
    assert.deepEqual(await served(s, image.url), deep);
    await assertThumbnail(image, 64, 128);
  });

  it('accepts a 16-bit PNG with an alpha channel', async () => {
    const deep = await sharp({ create: { width: 90, height: 60, channels: 4, background: { r: 10, g: 200, b: 30, alpha: 0.5 } } })
      .toColourspace('rgb16').png().toBuffer();
    const image = await s.uploadOk(deep);
    assert.deepEqual([image.width, image.height, image.thumb.width, image.thumb.height], [90, 60, 90, 60]);
  });
});

describe('a duplicate upload', () => {
  let s: TestServer;
  before(async () => { s = await startTestServer(); });
  after(() => s.close());

  it('reuses the existing thumbnail, storing each blob once', async () => {
    const jpeg = await photo(400, 300);
    const before = await storedFiles(s.dataDir);
    const first = await s.uploadOk(jpeg);
    const second = await s.uploadOk(jpeg);
    assert.notEqual(first.id, second.id);
    assert.deepEqual(second.thumb, first.thumb);
    const firstThumb = await served(s, first.thumb_url);
    const secondThumb = await served(s, second.thumb_url);
    assert.equal(sha256(secondThumb), sha256(firstThumb));
    const added = (await storedFiles(s.dataDir)).filter((f) => !before.includes(f)).map((f) => f.split('/').at(-1));
    assert.deepEqual(added.sort(), [first.sha256, sha256(firstThumb)].sort());
  });

  it('makes the thumbnail again when its blob has gone missing, restoring it for both images', async () => {
    const jpeg = await photo(300, 300);
    const before = new Set(await storedFiles(s.dataDir));
    const first = await s.uploadOk(jpeg);
    // Found on disk rather than served: a served thumbnail stays in the server's memory cache.
    const [thumbFile] = (await storedFiles(s.dataDir)).filter((f) => !before.has(f) && !f.endsWith(first.sha256));
    assert.ok(thumbFile !== undefined, 'the thumbnail was stored');
    await rm(thumbFile);
    assert.equal((await s.fetch(first.thumb_url)).status, 404);
    const key = basename(thumbFile);

    const second = await s.uploadOk(jpeg);
    assert.deepEqual(second.thumb, first.thumb);
    assert.equal(sha256(await served(s, second.thumb_url)), key, 'the same thumbnail, made again');
    assert.equal(sha256(await served(s, first.thumb_url)), key);
  });

  it('with other thumbnail settings makes a thumbnail of its own', async () => {
    const dataDir = s.dataDir;
    const jpeg = await photo(500, 250);
    const first = await s.uploadOk(jpeg);
    const other = await startTestServer({ data_dir: dataDir, thumb_size: 64 });
    try {
      const second = await other.uploadOk(jpeg);
      assert.deepEqual([first.thumb.width, second.thumb.width], [128, 64]);
      assert.notEqual(sha256(await served(other, second.thumb_url)), sha256(await served(other, first.thumb_url)));
    } finally {
      await other.close();
    }
  });
});
