// GET|HEAD /imgs/<id>/(orig|thumb): byte-exact delivery, caching validators, byte ranges and
// the refusal of everything that does not name a stored image.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { photo, solid } from '../helpers/images.js';
import { startTestServer, type TestServer, type UploadedImage } from '../helpers/server.js';
import { eventually, openUnder } from '../store/open-fds.js';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const bytesOf = async (res: Response) => Buffer.from(await res.arrayBuffer());

describe('GET /imgs/<id>/orig', () => {
  let s: TestServer;
  let original: Buffer;
  let image: UploadedImage;
  before(async () => {
    s = await startTestServer();
    original = await photo(320, 240, 'jpeg');
    image = await s.uploadOk(original, { filename: 'photo.jpg', type: 'image/jpeg' });
  });
  after(() => s.close());

  it('serves the uploaded bytes unchanged', async () => {
    const res = await s.fetch(image.url);
    assert.equal(res.status, 200);
    const body = await bytesOf(res);
    assert.equal(sha256(body), sha256(original));
    assert.equal(body.length, original.length);
  });

  it('announces the exact length and that ranges are accepted', async () => {
    const res = await s.fetch(image.url);
    await res.arrayBuffer();
    assert.equal(res.headers.get('content-length'), String(original.length));
    assert.equal(res.headers.get('accept-ranges'), 'bytes');
  });

  it('takes the Content-Type from the detected format, not from what the uploader claimed', async () => {
    const png = await solid(24, 24, '#3366cc');
    const disguised = await s.uploadOk(png, { filename: 'disguised.jpg', type: 'image/jpeg' });
    const res = await s.fetch(disguised.url);
    assert.equal(res.headers.get('content-type'), 'image/png');
    assert.deepEqual(await bytesOf(res), png);
    const jpeg = await s.fetch(image.url);
    await jpeg.arrayBuffer();
    assert.equal(jpeg.headers.get('content-type'), 'image/jpeg');
  });

  it('tags the response with a strong ETag that is the SHA-256 of the bytes', async () => {
    const res = await s.fetch(image.url);
    await res.arrayBuffer();
    assert.equal(res.headers.get('etag'), `"${sha256(original)}"`);
  });

  it('lets caches keep it forever', async () => {
    const res = await s.fetch(image.url);
    await res.arrayBuffer();
    assert.equal(res.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  });

  it('sends Last-Modified as the upload time, to the second', async () => {
    const res = await s.fetch(image.url);
    await res.arrayBuffer();
    assert.equal(res.headers.get('last-modified'), new Date(image.created_at).toUTCString());
  });

  it('forbids sniffing and sandboxes the image so it can never run as a document', async () => {
    const res = await s.fetch(image.url);
    await res.arrayBuffer();
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    const csp = res.headers.get('content-security-policy') ?? '';
    assert.match(csp, /(?:^|;)\s*sandbox\s*(?:;|$)/);
    assert.match(csp, /default-src 'none'/);
  });
});

describe('GET /imgs/<id>/thumb', () => {
  let s: TestServer;
  let image: UploadedImage;
  before(async () => {
    s = await startTestServer();
    image = await s.uploadOk(await photo(600, 300, 'jpeg'));
  });
  after(() => s.close());

  it('serves the thumbnail with its own type, length and content-hash ETag', async () => {
    const res = await s.fetch(image.thumb_url);
    assert.equal(res.status, 200);
    const body = await bytesOf(res);
    assert.equal(res.headers.get('content-type'), image.thumb.mime);
    assert.equal(res.headers.get('content-length'), String(image.thumb.bytes));
    assert.equal(body.length, image.thumb.bytes);
    assert.equal(res.headers.get('etag'), `"${sha256(body)}"`);
    assert.notEqual(sha256(body), image.sha256);
    assert.equal(res.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.match(res.headers.get('content-security-policy') ?? '', /sandbox/);
  });
});

describe('conditional requests', () => {
  let s: TestServer;
  let image: UploadedImage;
  let etag: string;
  let lastModified: string;
  before(async () => {
    s = await startTestServer();
    image = await s.uploadOk(await photo(200, 150, 'jpeg'));
    const res = await s.fetch(image.url);
    await res.arrayBuffer();
    etag = res.headers.get('etag') ?? '';
    lastModified = res.headers.get('last-modified') ?? '';
  });
  after(() => s.close());

  const notModified = async (headers: Record<string, string>) => {
    const res = await s.fetch(image.url, { headers });
    const body = await bytesOf(res);
    return { status: res.status, body, res };
  };

  it('answers 304 with no body when If-None-Match carries the ETag', async () => {
    const { status, body, res } = await notModified({ 'if-none-match': etag });
    assert.equal(status, 304);
    assert.equal(body.length, 0);
    assert.equal(res.headers.get('etag'), etag);
    assert.equal(res.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  });

  it('answers 304 when the ETag is one of a list', async () => {
    const { status } = await notModified({ 'if-none-match': `"0000", ${etag} , "ffff"` });
    assert.equal(status, 304);
  });

  it('answers 304 when the client sends the ETag as weak (W/ prefix)', async () => {
    const { status } = await notModified({ 'if-none-match': `W/${etag}` });
    assert.equal(status, 304);
  });

  it('answers 304 for If-None-Match: *', async () => {
    const { status } = await notModified({ 'if-none-match': '*' });
    assert.equal(status, 304);
  });

  it('answers 200 with the full body when no listed ETag matches', async () => {
    const { status, body } = await notModified({ 'if-none-match': `"${'0'.repeat(64)}", W/"abc"` });
    assert.equal(status, 200);
    assert.equal(body.length, image.bytes);
  });

  it('answers 304 when If-Modified-Since is the Last-Modified time or later', async () => {
    assert.equal((await notModified({ 'if-modified-since': lastModified })).status, 304);
    const later = new Date(Date.parse(lastModified) + 3600_000).toUTCString();
    assert.equal((await notModified({ 'if-modified-since': later })).status, 304);
  });

  it('answers 200 when the image changed after If-Modified-Since, or the date is garbage', async () => {
    const earlier = new Date(Date.parse(lastModified) - 3600_000).toUTCString();
    const old = await notModified({ 'if-modified-since': earlier });
    assert.equal(old.status, 200);
    assert.equal(old.body.length, image.bytes);
    assert.equal((await notModified({ 'if-modified-since': 'not a date' })).status, 200);
  });

  it('lets If-None-Match win over If-Modified-Since', async () => {
    const later = new Date(Date.parse(lastModified) + 3600_000).toUTCString();
    const { status } = await notModified({ 'if-none-match': '"something-else"', 'if-modified-since': later });
    assert.equal(status, 200);
  });
});

describe('byte ranges', () => {
  let s: TestServer;
  let original: Buffer;
  let image: UploadedImage;
  let size: number;
  before(async () => {
    s = await startTestServer();
    original = await photo(300, 200, 'png');
    image = await s.uploadOk(original);
    size = original.length;
    assert.ok(size > 1000);
  });
  after(() => s.close());

  const get = (range: string, extra: Record<string, string> = {}) => s.fetch(image.url, { headers: { range, ...extra } });

  const partials: [string, (n: number) => [number, number]][] = [
    ['bytes=0-99', () => [0, 99]],
    ['bytes=-50', (n) => [n - 50, n - 1]],
    ['bytes=100-', (n) => [100, n - 1]],
  ];
  for (const [range, expected] of partials) {
    it(`answers ${range} with 206, Content-Range and exactly those bytes`, async () => {
      const [start, end] = expected(size);
      const res = await get(range);
      assert.equal(res.status, 206);
      const body = await bytesOf(res);
      assert.equal(res.headers.get('content-range'), `bytes ${String(start)}-${String(end)}/${String(size)}`);
      assert.equal(res.headers.get('content-length'), String(end - start + 1));
      assert.deepEqual(body, original.subarray(start, end + 1));
    });
  }

  it('clamps a range that runs past the end to the last byte', async () => {
    const res = await get(`bytes=${String(size - 10)}-${String(size + 1000)}`);
    assert.equal(res.status, 206);
    assert.equal(res.headers.get('content-range'), `bytes ${String(size - 10)}-${String(size - 1)}/${String(size)}`);
    assert.deepEqual(await bytesOf(res), original.subarray(size - 10));
  });

  it('honours the range when If-Range carries the current ETag', async () => {
    const res = await get('bytes=0-99', { 'if-range': `"${image.sha256}"` });
    assert.equal(res.status, 206);
    assert.deepEqual(await bytesOf(res), original.subarray(0, 100));
  });

  it('sends the whole image with 200 when If-Range does not match', async () => {
    const res = await get('bytes=0-99', { 'if-range': `"${'0'.repeat(64)}"` });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-range'), null);
    assert.deepEqual(await bytesOf(res), original);
  });

  it('sends the whole image when If-Range carries a weak ETag (If-Range needs a strong match)', async () => {
    const res = await get('bytes=0-99', { 'if-range': `W/"${image.sha256}"` });
    assert.equal(res.status, 200);
    assert.deepEqual(await bytesOf(res), original);
  });

  it('answers 416 with Content-Range: bytes */size for a range past the end', async () => {
    const res = await get(`bytes=${String(size)}-`);
    assert.equal(res.status, 416);
    await res.arrayBuffer();
    assert.equal(res.headers.get('content-range'), `bytes */${String(size)}`);
  });

  it('answers several ranges with the whole image and 200', async () => {
    const res = await get('bytes=0-9,200-299');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-range'), null);
    assert.equal(res.headers.get('content-length'), String(size));
    assert.deepEqual(await bytesOf(res), original);
  });

  it('ignores a Range header of a unit other than bytes', async () => {
    const res = await get('items=0-5');
    assert.equal(res.status, 200);
    assert.deepEqual(await bytesOf(res), original);
  });
});

describe('HEAD /imgs/<id>/(orig|thumb)', () => {
  let s: TestServer;
  let image: UploadedImage;
  before(async () => {
    s = await startTestServer();
    image = await s.uploadOk(await photo(256, 256, 'webp'));
  });
  after(() => s.close());

  it('answers with the same headers as GET and no body', async () => {
    const head = await s.fetch(image.url, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal((await bytesOf(head)).length, 0);
    const get = await s.fetch(image.url);
    await get.arrayBuffer();
    for (const name of ['content-type', 'content-length', 'etag', 'last-modified', 'cache-control', 'content-security-policy']) {
      assert.equal(head.headers.get(name), get.headers.get(name), name);
    }
    assert.equal(head.headers.get('content-length'), String(image.bytes));
  });

  it('announces the thumbnail length', async () => {
    const head = await s.fetch(image.thumb_url, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), String(image.thumb.bytes));
    assert.equal((await bytesOf(head)).length, 0);
  });

  it('answers 404 for an unknown image', async () => {
    const head = await s.fetch('/imgs/AAAAAAAAAAAAAAAA/orig', { method: 'HEAD' });
    assert.equal(head.status, 404);
  });
});

describe('a multi-megabyte original', () => {
  let s: TestServer;
  let original: Buffer;
  let image: UploadedImage;
  before(async () => {
    s = await startTestServer();
    original = await photo(3000, 2000, 'png');
    image = await s.uploadOk(original, { filename: 'noise.png', type: 'image/png' });
  });
  after(() => s.close());

  it('streams back byte for byte', async () => {
    assert.ok(original.length > 5 * 1024 * 1024, `only ${String(original.length)} bytes`);
    const res = await s.fetch(image.url);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-length'), String(original.length));
    const body = await bytesOf(res);
    assert.equal(body.length, original.length);
    assert.equal(sha256(body), sha256(original));
  });

  it('serves a range from the middle of it', async () => {
    const start = 4 * 1024 * 1024 + 7;
    const res = await s.fetch(image.url, { headers: { range: `bytes=${String(start)}-${String(start + 65535)}` } });
    assert.equal(res.status, 206);
    assert.deepEqual(await bytesOf(res), original.subarray(start, start + 65536));
  });

  it('serves ranges exactly at its first and last bytes', async () => {
    const last = original.length - 1;
    for (const [start, end] of [[0, 65_535], [last - 65_535, last], [last, last]] as const) {
      const res = await s.fetch(image.url, { headers: { range: `bytes=${String(start)}-${String(end)}` } });
      assert.equal(res.status, 206);
      assert.equal(res.headers.get('content-range'), `bytes ${String(start)}-${String(end)}/${String(original.length)}`);
      assert.deepEqual(await bytesOf(res), original.subarray(start, end + 1));
    }
  });

  it('keeps its blob files open a bounded number of times however many GETs, abandoned ones too', async () => {
    const blobs = join(s.dataDir, 'blobs');
    for (let round = 0; round < 10; round++) {
      const gets = Array.from({ length: 8 }, async (_, i) => {
        const res = await s.fetch(image.url, i % 2 ? { headers: { range: `bytes=${String(i * 1000)}-${String(i * 1000 + 65_535)}` } } : {});
        if (i === 4) await res.body?.cancel();
        else await res.arrayBuffer();
      });
      await Promise.all(gets);
    }
    await eventually(() => openUnder(blobs) <= 2);
  });

  it('no longer serves it once deleted, and closes its file', async () => {
    const other = await s.uploadOk(await photo(900, 600, 'png'), { filename: 'other.png', type: 'image/png' });
    await (await s.fetch(other.url)).arrayBuffer();
    const blobs = join(s.dataDir, 'blobs');
    const before = openUnder(blobs);
    const deleted = await s.fetch(`/api/images/${other.id}`, { method: 'DELETE', headers: { 'x-delete-token': other.delete_token } });
    assert.equal(deleted.status, 204);
    assert.equal((await s.fetch(other.url)).status, 404);
    await eventually(() => openUnder(blobs) < before);
  });
});

describe('the blob files a server keeps open', () => {
  it('are closed when the server closes', async () => {
    const s = await startTestServer();
    const image = await s.uploadOk(await photo(900, 600, 'png'), { filename: 'noise.png', type: 'image/png' });
    await (await s.fetch(image.url)).arrayBuffer();
    const blobs = join(s.dataDir, 'blobs');
    assert.ok(openUnder(blobs) >= 1);
    await s.close();
    await eventually(() => openUnder(blobs) === 0);
  });
});

describe('requests that name no stored image', () => {
  let s: TestServer;
  let image: UploadedImage;
  before(async () => {
    s = await startTestServer();
    image = await s.uploadOk(await solid(16, 16, '#aa0000'));
  });
  after(() => s.close());

  const notFound = async (path: string) => {
    const res = await s.fetch(path);
    assert.equal(res.status, 404, path);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/, path);
    const body = await res.json() as { status: number; error: string };
    assert.equal(body.status, 404, path);
    assert.equal(body.error, 'NOT_FOUND', path);
  };

  it('answers 404 JSON for a well-formed id that was never uploaded', async () => {
    await notFound('/imgs/AAAAAAAAAAAAAAAA/orig');
    await notFound('/imgs/AAAAAAAAAAAAAAAA/thumb');
  });

  it('answers 404 JSON for an id one character too short or too long', async () => {
    await notFound(`/imgs/${image.id.slice(0, 15)}/orig`);
    await notFound(`/imgs/${image.id}A/orig`);
  });

  it('answers 404 JSON for ids that try to escape the store', async () => {
    await notFound('/imgs/..%2F..%2F..%2Fetc%2Fpasswd/orig');
    await notFound('/imgs/..%2F../orig');
    await notFound('/imgs/%00/orig');
    await notFound(`/imgs/${image.id.slice(0, 15)}%00/orig`);
  });

  it('answers 404 JSON for an id with non-ASCII characters', async () => {
    await notFound(`/imgs/${encodeURIComponent('ÄÖÜäöüßéèêëïîôûç')}/orig`);
    await notFound(`/imgs/${encodeURIComponent('🙂🙂🙂🙂🙂🙂🙂🙂')}/orig`);
  });

  it('answers 404 JSON for a variant other than orig or thumb', async () => {
    await notFound(`/imgs/${image.id}/big`);
    await notFound(`/imgs/${image.id}/origx`);
    await notFound(`/imgs/${image.id}/`);
  });

  it('still serves the image itself (the refusals above are not a broken route)', async () => {
    const res = await s.fetch(image.url);
    assert.equal(res.status, 200);
    await res.arrayBuffer();
  });
});
