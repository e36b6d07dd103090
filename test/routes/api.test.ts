// The JSON API: upload, list, fetch, delete, and every refusal with its status.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { animatedGif, photo, pngClaiming, rotatedJpeg, solid, svgWithScript } from '../helpers/images.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

async function blobFiles(dataDir: string): Promise<string[]> {
  const entries = await readdir(join(dataDir, 'blobs'), { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile() && /^[0-9a-f]{64}$/.test(e.name)).map((e) => e.name).sort();
}

describe('POST /api/images', () => {
  let s: TestServer;
  before(async () => { s = await startTestServer(); });
  after(() => s.close());

  it('stores a JPEG and answers 201 with the documented fields', async () => {
    const jpeg = await photo(640, 400);
    const res = await s.upload(jpeg, { filename: 'beach.jpg', type: 'image/jpeg' });
    assert.equal(res.status, 201);
    const body = await res.json() as Record<string, unknown>;
    assert.match(String(body.id), /^[A-Za-z0-9_-]{16}$/);
    assert.equal(body.url, `${s.url}/imgs/${String(body.id)}/orig`);
    assert.equal(body.thumb_url, `${s.url}/imgs/${String(body.id)}/thumb`);
    assert.equal(body.page_url, `${s.url}/i/${String(body.id)}`);
    assert.equal(body.width, 640);
    assert.equal(body.height, 400);
    assert.equal(body.format, 'jpeg');
    assert.equal(body.bytes, jpeg.length);
    assert.equal(body.sha256, sha256(jpeg));
    assert.equal(body.name, 'beach.jpg');
    assert.ok(!Number.isNaN(Date.parse(String(body.created_at))));
    assert.match(String(body.delete_token), /^[A-Za-z0-9_-]{24}$/);
    assert.equal(res.headers.get('location'), body.url);
  });

  it('accepts a raw body with an image content type, naming it from ?name=', async () => {
    const png = await solid(50, 20, '#00aa00');
    const res = await s.fetch('/api/images?name=green.png', { method: 'POST', body: new Uint8Array(png), headers: { 'content-type': 'image/png' } });
    assert.equal(res.status, 201);
    const body = await res.json() as { format: string; width: number; name: string };
    assert.deepEqual([body.format, body.width, body.name], ['png', 50, 'green.png']);
  });

  it('detects the format from the bytes, not from what the client claims', async () => {
    const png = await solid(30, 30, '#123456');
    const body = await s.uploadOk(png, { filename: 'fake.jpg', type: 'image/jpeg' });
    assert.equal(body.format, 'png');
    const res = await s.fetch(body.url);
    assert.equal(res.headers.get('content-type'), 'image/png');
  });

  for (const format of ['webp', 'avif', 'tiff', 'gif'] as const) {
    it(`accepts ${format}`, async () => {
      const body = await s.uploadOk(await photo(300, 200, format));
      assert.equal(body.format, format);
      assert.deepEqual([body.width, body.height], [300, 200]);
    });
  }

  it('reports the displayed size of an EXIF-rotated photo and rotates its thumbnail', async () => {
    const body = await s.uploadOk(await rotatedJpeg(300, 150));
    assert.deepEqual([body.width, body.height], [150, 300]);
    assert.deepEqual([body.thumb.width, body.thumb.height], [64, 128]);
  });

  it('makes a thumbnail inside 128x128 that keeps the aspect ratio', async () => {
    const body = await s.uploadOk(await photo(1000, 500));
    assert.deepEqual([body.thumb.width, body.thumb.height, body.thumb.mime], [128, 64, 'image/webp']);
    const thumb = Buffer.from(await (await s.fetch(body.thumb_url)).arrayBuffer());
    const meta = await sharp(thumb).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['webp', 128, 64]);
  });

  for (const format of ['avif', 'tiff'] as const) {
    it(`stores the thumbnail of a small ${format} photo in fewer bytes than the original`, async () => {
      const original = await photo(300, 200, format);
      const body = await s.uploadOk(original);
      assert.equal(body.thumb.mime, 'image/webp');
      assert.ok(body.thumb.bytes < original.length, `${String(body.thumb.bytes)} bytes against the original's ${String(original.length)}`);
      const thumb = Buffer.from(await (await s.fetch(body.thumb_url)).arrayBuffer());
      assert.equal(thumb.length, body.thumb.bytes);
    });
  }

  it('never enlarges a small image', async () => {
    const body = await s.uploadOk(await solid(40, 10, '#ff00ff'));
    assert.deepEqual([body.thumb.width, body.thumb.height], [40, 10]);
  });

  it('takes the first frame of an animated GIF for the thumbnail', async () => {
    const body = await s.uploadOk(await animatedGif(3));
    assert.deepEqual([body.format, body.width, body.height], ['gif', 40, 30]);
  });

  const refusals: [string, () => Promise<Buffer>, number, RegExp][] = [
    ['a text file', () => Promise.resolve(Buffer.from('hello, this is not an image')), 400, /cannot identify image file/],
    ['an empty file', () => Promise.resolve(Buffer.alloc(0)), 400, /cannot identify image file/],
    ['a truncated JPEG', async () => (await photo(400, 300)).subarray(0, 2000), 400, /cannot identify image file/],
    ['an SVG with a script', () => Promise.resolve(svgWithScript), 415, /SVG files are not accepted/],
    ['a PNG header claiming 65000x65000 pixels', () => pngClaiming(65000, 65000), 413, /65000x65000, 4225 megapixels, more than the limit of 100 megapixels/],
  ];
  for (const [what, make, status, message] of refusals) {
    it(`refuses ${what} with ${String(status)} and stores nothing`, async () => {
      const before = await blobFiles(s.dataDir);
      const res = await s.upload(await make());
      assert.equal(res.status, status);
      const body = await res.json() as { message: string };
      assert.match(body.message, message);
      assert.deepEqual(await blobFiles(s.dataDir), before);
      assert.deepEqual(await readdir(join(s.dataDir, 'tmp')), []);
    });
  }

  it('answers 400 when the form has no file field', async () => {
    const form = new FormData();
    form.append('other', 'value');
    const res = await s.fetch('/api/images', { method: 'POST', body: form });
    assert.equal(res.status, 400);
    assert.match((await res.json() as { message: string }).message, /no 'file' field/);
  });

  it('answers 400 when there is no body at all', async () => {
    const res = await s.fetch('/api/images', { method: 'POST' });
    assert.equal(res.status, 400);
  });

  it('answers 415 for a body that is neither multipart nor an image', async () => {
    const res = await s.fetch('/api/images', { method: 'POST', body: '{"a":1}', headers: { 'content-type': 'application/json' } });
    assert.equal(res.status, 415);
  });
});

describe('upload limits', () => {
  let s: TestServer;
  before(async () => { s = await startTestServer({ max_upload_size: 20_000, max_pixels: 1_000_000 }); });
  after(() => s.close());

  it('refuses a body that announces more than max_upload_size before reading it (413)', async () => {
    const res = await s.fetch('/api/images', { method: 'POST', body: new Uint8Array(50_000), headers: { 'content-type': 'image/png' } });
    assert.equal(res.status, 413);
    assert.match((await res.json() as { message: string }).message, /larger than the 20 KiB limit/);
  });

  it('stops reading a streamed multipart file once it passes max_upload_size (413)', async () => {
    const big = await photo(800, 800, 'png');
    assert.ok(big.length > 20_000);
    const res = await s.upload(big);
    assert.equal(res.status, 413);
    assert.deepEqual(await readdir(join(s.dataDir, 'tmp')), []);
  });

  it('refuses more pixels than max_pixels from the header (413)', async () => {
    const res = await s.upload(await solid(1200, 1000, '#000000', 'png'));
    assert.equal(res.status, 413);
    assert.match((await res.json() as { message: string }).message, /1200x1000, 1.2 megapixels, more than the limit of 1 megapixel$/);
  });

  it('counts every frame of an animation against max_pixels', async () => {
    const res = await s.upload(await animatedGif(3, 1000, 500));
    assert.equal(res.status, 413);
    assert.match((await res.json() as { message: string }).message, /x 3 frames/);
  });
});

describe('GET /api/images', () => {
  let s: TestServer;
  const ids: string[] = [];
  before(async () => {
    s = await startTestServer();
    for (let i = 0; i < 5; i++) ids.push((await s.uploadOk(await solid(10 + i, 10, '#808080'))).id);
  });
  after(() => s.close());

  it('lists newest first, without delete tokens', async () => {
    const body = await (await s.fetch('/api/images')).json() as { images: Record<string, unknown>[]; next_cursor: string | null };
    assert.deepEqual(body.images.map((i) => i.id), [...ids].reverse());
    assert.ok(body.images.every((i) => !('delete_token' in i)));
    assert.equal(body.next_cursor, null);
  });

  it('pages with limit and the before cursor', async () => {
    const first = await (await s.fetch('/api/images?limit=2')).json() as { images: { id: string }[]; next_cursor: string };
    assert.deepEqual(first.images.map((i) => i.id), [ids[4], ids[3]]);
    const second = await (await s.fetch(`/api/images?limit=2&before=${first.next_cursor}`)).json() as { images: { id: string }[]; next_cursor: string };
    assert.deepEqual(second.images.map((i) => i.id), [ids[2], ids[1]]);
    const third = await (await s.fetch(`/api/images?limit=2&before=${second.next_cursor}`)).json() as { images: { id: string }[]; next_cursor: string | null };
    assert.deepEqual(third.images.map((i) => i.id), [ids[0]]);
    assert.equal(third.next_cursor, null);
  });

  it('refuses a malformed limit or cursor with 400', async () => {
    assert.equal((await s.fetch('/api/images?limit=abc')).status, 400);
    assert.equal((await s.fetch('/api/images?before=-3')).status, 400);
  });

  it('returns one image by id, and 404 for unknown or malformed ids', async () => {
    const one = await (await s.fetch(`/api/images/${ids[0] ?? ''}`)).json() as { id: string };
    assert.equal(one.id, ids[0]);
    assert.equal((await s.fetch('/api/images/AAAAAAAAAAAAAAAA')).status, 404);
    assert.equal((await s.fetch('/api/images/..%2F..%2Fetc')).status, 404);
  });
});

describe('DELETE /api/images/:id and deduplication', () => {
  let s: TestServer;
  before(async () => { s = await startTestServer(); });
  after(() => s.close());

  it('stores the bytes of a file uploaded twice once, with two ids and tokens', async () => {
    const jpeg = await photo(200, 100);
    const a = await s.uploadOk(jpeg);
    const b = await s.uploadOk(jpeg);
    assert.notEqual(a.id, b.id);
    assert.notEqual(a.delete_token, b.delete_token);
    assert.equal(a.sha256, b.sha256);
    assert.deepEqual(await blobFiles(s.dataDir), [a.sha256, sha256(Buffer.from(await (await s.fetch(a.thumb_url)).arrayBuffer()))].sort());

    const wrong = await s.fetch(`/api/images/${a.id}`, { method: 'DELETE', headers: { 'x-delete-token': b.delete_token } });
    assert.equal(wrong.status, 403);
    const missing = await s.fetch(`/api/images/${a.id}`, { method: 'DELETE' });
    assert.equal(missing.status, 403);

    const del = await s.fetch(`/api/images/${a.id}`, { method: 'DELETE', headers: { 'x-delete-token': a.delete_token } });
    assert.equal(del.status, 204);
    assert.equal((await s.fetch(a.url)).status, 404);
    // The other upload still has its bytes.
    const kept = Buffer.from(await (await s.fetch(b.url)).arrayBuffer());
    assert.deepEqual(kept, jpeg);
    assert.equal((await blobFiles(s.dataDir)).length, 2);

    const delB = await s.fetch(`/api/images/${b.id}`, { method: 'DELETE', headers: { 'x-delete-token': b.delete_token } });
    assert.equal(delB.status, 204);
    assert.deepEqual(await blobFiles(s.dataDir), []);
    assert.equal((await s.fetch(`/api/images/${b.id}`, { method: 'DELETE', headers: { 'x-delete-token': b.delete_token } })).status, 404);
  });
});
