// Back-pressure through HTTP: with thumbnail slots and queue full the server answers 503 with
// Retry-After instead of piling up work, never 500; and serving stays responsive while
// thumbnails are being made, because the pixel work runs off the event loop.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { photo, solid } from '../helpers/images.js';
import { jpegVariant } from '../helpers/jpeg.js';
import { startTestServer, type TestServer, type UploadedImage } from '../helpers/server.js';

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

async function blobKeys(dataDir: string): Promise<string[]> {
  const entries = await readdir(join(dataDir, 'blobs'), { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile() && /^[0-9a-f]{64}$/.test(e.name)).map((e) => e.name).sort();
}

/** One large noisy photograph: generating it is the slow part, so it is made once per file. */
let large: Buffer;
before(async () => { large = await photo(3000, 2000); });

/** The large photo with different bytes each time, so no upload is a duplicate of another. */
/** Many uploads at once from one address, all received: the thumbnail step is what these tests load. */
const UNBOUNDED_RECEIVING = { max_receiving: 100, max_uploads_per_client: 0 };

let variants = 0;
const largeUpload = (): Buffer => jpegVariant(large, `upload ${String(++variants)}`);

describe('uploads beyond thumb_concurrency + queue_limit', () => {
  let s: TestServer;
  // The variants differ only in a JPEG comment: stripping would make them duplicates, and duplicates make no thumbnail.
  // The receive bounds are lifted so that only the thumbnail queue turns uploads away here.
  before(async () => { s = await startTestServer({ thumb_concurrency: 1, queue_limit: 0, strip_metadata: false, ...UNBOUNDED_RECEIVING }); });
  after(() => s.close());

  it('are answered 503 with Retry-After while the others succeed, and never 500', async () => {
    const uploads = Array.from({ length: 12 }, largeUpload);
    const answers = await Promise.all(uploads.map(async (data) => {
      const res = await s.upload(data, { filename: 'big.jpg', type: 'image/jpeg' });
      return { data, status: res.status, retryAfter: res.headers.get('retry-after'), type: res.headers.get('content-type'), body: await res.text() };
    }));

    const statuses = answers.map((a) => a.status);
    assert.ok(statuses.every((st) => st === 201 || st === 503), `statuses: ${statuses.join(', ')}`);
    const ok = answers.filter((a) => a.status === 201);
    const busy = answers.filter((a) => a.status === 503);
    assert.ok(ok.length >= 1, 'at least the first upload should get the free slot');
    assert.ok(busy.length >= 1, `12 simultaneous uploads with one slot and no queue all succeeded: ${statuses.join(', ')}`);

    for (const refusal of busy) {
      assert.match(refusal.retryAfter ?? '', /^\d+$/);
      assert.ok(Number(refusal.retryAfter) >= 1);
      assert.match(refusal.type ?? '', /^application\/json/);
      const body = JSON.parse(refusal.body) as { status: number; error: string; message: string };
      assert.deepEqual([body.status, body.error], [503, 'BUSY']);
      assert.match(body.message, /busy/);
    }

    // Every accepted image is served whole, thumbnail included.
    const images = ok.map((a) => ({ data: a.data, image: JSON.parse(a.body) as UploadedImage }));
    let thumbKey = '';
    for (const { data, image } of images) {
      const orig = await s.fetch(image.url);
      assert.equal(orig.status, 200);
      assert.deepEqual(Buffer.from(await orig.arrayBuffer()), data);
      const thumb = await s.fetch(image.thumb_url);
      assert.equal(thumb.status, 200);
      thumbKey = sha256(Buffer.from(await thumb.arrayBuffer()));
    }

    // The refused uploads left nothing: no spooled body, no blob. (All variants share one thumbnail.)
    assert.deepEqual(await readdir(join(s.dataDir, 'tmp')), []);
    assert.deepEqual(await blobKeys(s.dataDir), [...images.map((i) => i.image.sha256), thumbKey].sort());
    const listed = await (await s.fetch('/api/images?limit=100')).json() as { images: { id: string }[] };
    assert.deepEqual(listed.images.map((i) => i.id).sort(), images.map((i) => i.image.id).sort());
  });

  it('accept an upload again once the server is idle', async () => {
    const data = largeUpload();
    const image = await s.uploadOk(data);
    assert.deepEqual([image.width, image.height, image.sha256], [3000, 2000, sha256(data)]);
  });
});

describe('serving while thumbnails are being made', () => {
  let s: TestServer;
  let existing: UploadedImage;
  before(async () => {
    // One slot, a long queue, and large thumbnails: the uploads below take a while to get through.
    s = await startTestServer({ thumb_concurrency: 1, queue_limit: 100, thumb_size: 1024, strip_metadata: false, ...UNBOUNDED_RECEIVING });
    existing = await s.uploadOk(await solid(40, 30, '#4080c0'));
  });
  after(() => s.close());

  it('stays responsive: every GET completes before the last queued upload does', async () => {
    const events: string[] = [];
    const uploads = Array.from({ length: 8 }, async () => {
      const res = await s.upload(largeUpload());
      const body = await res.text();
      events.push(`upload ${String(res.status)}`);
      assert.equal(res.status, 201, body);
    });
    // Once one upload is done the rest are certainly being processed or queued behind it:
    // each of them needs its own thumbnail and there is only one slot.
    await Promise.race(uploads);
    assert.deepEqual(events, ['upload 201']);

    // Sequential, so that if thumbnails blocked the event loop each GET would wait behind one
    // and the uploads would finish first.
    const paths = ['/healthz', '/api/images', existing.thumb_url];
    for (let round = 0; round < 10; round++) {
      for (const path of paths) {
        const res = await s.fetch(path);
        await res.arrayBuffer();
        events.push(`GET ${path} ${String(res.status)}`);
      }
    }
    await Promise.all(uploads);

    const gets = events.filter((e) => e.startsWith('GET'));
    assert.equal(gets.length, 30);
    assert.ok(gets.every((e) => e.endsWith(' 200')), gets.filter((e) => !e.endsWith(' 200')).join('; '));
    const lastGet = events.findLastIndex((e) => e.startsWith('GET'));
    const lastUpload = events.findLastIndex((e) => e.startsWith('upload'));
    assert.ok(lastGet < lastUpload, `the last GET completed after the last upload:\n${events.join('\n')}`);
    assert.equal(events.filter((e) => e === 'upload 201').length, 8);
  });
});
