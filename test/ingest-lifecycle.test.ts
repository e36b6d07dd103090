// How an upload ends when something other than its bytes goes wrong: its client leaves before the
// answer, too many uploads are being received at once, or its pending record is taken away before
// it is made visible. In each case nothing becomes visible and nothing is left behind.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type { BlobStore } from '../src/store/index.js';
import { waitFor } from './helpers/async.js';
import { BOUNDARY, multipartBody, multipartHead, stalled, streamedInit } from './helpers/bodies.js';
import { photo, solid } from './helpers/images.js';
import { jpegVariant } from './helpers/jpeg.js';
import { startTestServer, type TestServer, type UploadedImage } from './helpers/server.js';

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');
const MULTIPART = `multipart/form-data; boundary=${BOUNDARY}`;

interface ErrorJson { status: number; error: string; message: string }

async function blobFiles(dataDir: string): Promise<string[]> {
  const entries = await readdir(join(dataDir, 'blobs'), { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => e.name).sort();
}

const spooled = (dataDir: string): Promise<string[]> => readdir(join(dataDir, 'tmp'));

async function listedIds(s: TestServer): Promise<string[]> {
  const listing = await (await s.fetch('/api/images?limit=100')).json() as { images: { id: string }[] };
  return listing.images.map((i) => i.id).sort();
}

describe('an upload whose client disconnects while it waits for a thumbnail slot', () => {
  let s: TestServer;
  let large: Buffer;
  before(async () => {
    // One slot and large thumbnails: a few large uploads keep the slot busy for a while.
    // The five uploads all come from one address: its bound on uploads received at once is lifted.
    s = await startTestServer({ thumb_concurrency: 1, queue_limit: 20, thumb_size: 2000, strip_metadata: false, max_uploads_per_client: 0 });
    large = await photo(3000, 2000);
  });
  after(() => s.close());

  it('is never listed or stored, and leaves nothing in the store or data_dir/tmp', async () => {
    const blockers = Array.from({ length: 4 }, (_, i) => jpegVariant(large, `blocker ${String(i)}`));
    const answers = blockers.map(async (data) => {
      const res = await s.upload(data);
      const body = await res.text();
      assert.equal(res.status, 201, body);
      return JSON.parse(body) as UploadedImage;
    });
    await waitFor(async () => (await spooled(s.dataDir)).length === blockers.length, 'the large uploads to be received');

    // The whole upload is sent, then the client goes away before any answer.
    const victim = await solid(64, 48, '#c03070');
    const body = multipartBody(victim, { filename: 'left.png', type: 'image/png' });
    const client = request(`${s.url}/api/images`, {
      method: 'POST', headers: { 'content-type': MULTIPART, 'content-length': String(body.length) },
    });
    client.on('error', () => undefined);
    client.end(body);
    const victimSpooled = async () => {
      for (const name of await spooled(s.dataDir)) {
        if ((await stat(join(s.dataDir, 'tmp', name)).catch(() => null))?.size === victim.length) return true;
      }
      return false;
    };
    await waitFor(victimSpooled, 'the small upload to be received whole');
    await sleep(50);
    client.destroy();

    const kept = await Promise.all(answers);
    await waitFor(async () => (await spooled(s.dataDir)).length === 0, 'every upload to be done with');
    assert.deepEqual(await listedIds(s), kept.map((i) => i.id).sort());
    const thumbs = await Promise.all(kept.map(async (i) => sha256(Buffer.from(await (await s.fetch(i.thumb_url)).arrayBuffer()))));
    assert.deepEqual(await blobFiles(s.dataDir), [...new Set([...kept.map((i) => i.sha256), ...thumbs])].sort(),
      'only the kept images\' blobs, nothing of the abandoned upload and no temporary file');
    assert.ok(!(await blobFiles(s.dataDir)).includes(sha256(victim)));
  });
});

describe('uploads beyond max_receiving', () => {
  let s: TestServer;
  before(async () => { s = await startTestServer({ max_receiving: 1 }); });
  after(() => s.close());

  it('are answered 503 with Retry-After before their body is read, naming the cause', async () => {
    const slow = new AbortController();
    const first = s.fetch('/api/images', streamedInit(stalled(Buffer.concat([multipartHead({ type: 'image/png' }), Buffer.alloc(50_000, 1)])), MULTIPART, slow.signal))
      .catch(() => null);
    await waitFor(async () => (await spooled(s.dataDir)).length === 1, 'the first upload to be received');

    // This body never ends either: only an answer given before reading it ends the request.
    const image = await solid(30, 20, '#208040');
    const res = await s.fetch('/api/images', streamedInit(stalled(multipartBody(image)), MULTIPART, AbortSignal.timeout(15_000)));
    assert.equal(res.status, 503);
    assert.match(res.headers.get('retry-after') ?? '', /^[1-9]\d*$/);
    const answer = await res.json() as ErrorJson;
    assert.equal(answer.error, 'BUSY');
    assert.match(answer.message, /busy receiving uploads/);

    slow.abort();
    await first;
    await waitFor(async () => (await spooled(s.dataDir)).length === 0, 'the aborted upload to be cleaned up');
    const accepted = await s.uploadOk(image);
    assert.deepEqual(await listedIds(s), [accepted.id]);
  });
});

/** A raw PNG upload from `localAddress`, its body sent up to `sent` bytes; `finish` sends the rest. */
function rawUpload(url: string, localAddress: string, png: Buffer, sent = png.length) {
  let answer: (res: { status: number; body: string }) => void = () => undefined;
  const answered = new Promise<{ status: number; body: string }>((resolve) => { answer = resolve; });
  const req = request(`${url}/api/images`, {
    method: 'POST', localAddress, agent: false,
    headers: { 'content-type': 'image/png', 'content-length': String(png.length) },
  }, (res) => {
    let body = '';
    res.on('data', (chunk: Buffer) => { body += chunk.toString(); });
    res.on('end', () => { answer({ status: res.statusCode ?? 0, body }); });
  });
  req.on('error', () => undefined);
  req.write(png.subarray(0, sent));
  return { answered, finish: () => { req.end(png.subarray(sent)); }, abort: () => { req.destroy(); } };
}

describe('uploads beyond max_uploads_per_client from one address', () => {
  let s: TestServer;
  before(async () => { s = await startTestServer({ max_receiving: 8, max_uploads_per_client: 2 }); });
  after(() => s.close());

  it('are answered 429 before their body is read, while other addresses upload and the slots come back', async () => {
    const png = await photo(64, 48, 'png');
    // Two bodies trickled slowly hold this address's two slots.
    const slow = [rawUpload(s.url, '127.0.0.1', png, 100), rawUpload(s.url, '127.0.0.1', png, 100)];
    await waitFor(async () => (await spooled(s.dataDir)).length === 2, 'both slow uploads to be received');

    const third = rawUpload(s.url, '127.0.0.1', png, 0);
    const refused = await third.answered;
    assert.equal(refused.status, 429);
    const answer = JSON.parse(refused.body) as ErrorJson;
    assert.equal(answer.error, 'TOO_MANY_UPLOADS_AT_ONCE');
    assert.match(answer.message, /already sending 2 uploads/);

    const other = rawUpload(s.url, '127.0.0.2', png);
    assert.equal((await other.answered).status, 201, 'another address is not held up');

    for (const upload of slow) upload.finish();
    assert.deepEqual((await Promise.all(slow.map((u) => u.answered))).map((a) => a.status), [201, 201]);
    const again = rawUpload(s.url, '127.0.0.1', png);
    assert.equal((await again.answered).status, 201, 'the address has its slots back');
  });
});

describe('uploads of one address waiting for thumbnails', () => {
  let s: TestServer;
  before(async () => {
    // One slot and large thumbnails: the first uploads wait a while for theirs.
    s = await startTestServer({ thumb_concurrency: 1, queue_limit: 10, thumb_size: 2000, strip_metadata: false, max_uploads_per_client: 2 });
  });
  after(() => s.close());

  it('count against max_uploads_per_client until answered, so one address cannot fill the shared queue', async () => {
    const large = await photo(3000, 2000);
    const waiting = [0, 1].map((i) => rawUpload(s.url, '127.0.0.1', jpegVariant(large, `waiting ${String(i)}`)).answered);
    await waitFor(async () => (await spooled(s.dataDir)).length === 2, 'both uploads to be received');
    const refused = await rawUpload(s.url, '127.0.0.1', await photo(64, 48, 'png')).answered;
    assert.equal(refused.status, 429, refused.body);
    assert.equal(((JSON.parse(refused.body)) as ErrorJson).error, 'TOO_MANY_UPLOADS_AT_ONCE');
    assert.equal((await rawUpload(s.url, '127.0.0.2', await photo(64, 48, 'png')).answered).status, 201, 'another address still gets into the queue');
    assert.deepEqual((await Promise.all(waiting)).map((a) => a.status), [201, 201]);
  });
});

describe('an upload whose pending record is taken away before it is made visible', () => {
  let s: TestServer;
  let store: BlobStore;
  let put: BlobStore['put'];
  before(async () => {
    s = await startTestServer({ strip_metadata: false });
    store = s.server.library.store;
    put = store.put.bind(store);
  });
  after(() => s.close());

  it('answers 503 UPLOAD_LOST, not 201, and leaves nothing behind', async () => {
    // What another node's gc does to a record whose lease ran out (its upload paused longer than
    // a lease): the record is removed while the upload writes its blobs.
    const repo = s.server.library.repo;
    store.put = async (...args) => {
      for (const pending of await repo.stalePending(new Date(Date.now() + 60_000))) await repo.remove(pending.id);
      await put(...args);
    };
    const data = await photo(200, 150);
    const res = await s.upload(data);
    store.put = put;
    const answer = await res.json() as ErrorJson;
    assert.deepEqual([res.status, answer.error], [503, 'UPLOAD_LOST'], answer.message);
    assert.match(answer.message, /retry/);
    assert.ok(res.headers.get('retry-after'));
    assert.deepEqual(await listedIds(s), []);
    assert.deepEqual(await blobFiles(s.dataDir), []);
    assert.deepEqual(await spooled(s.dataDir), []);

    const retried = await s.uploadOk(data);
    assert.equal(retried.sha256, sha256(data));
    assert.deepEqual(await listedIds(s), [retried.id]);
  });
});
