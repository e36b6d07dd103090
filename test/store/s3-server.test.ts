// The whole server on an S3 blob store (Ceph RGW): the HTTP layer behaves as on files (uploads,
// byte-exact serving, ranges, dedup, deletes, gc), and with s3_public_url a GET is sent to the
// bucket, which then serves the same bytes itself.
import assert from 'node:assert/strict';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { paginateListObjectsV2, PutBucketPolicyCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { Config } from '../../src/config/options.js';
import { s3Client, s3Options, startS3, type S3Server } from '../helpers/ceph.js';
import { photo } from '../helpers/images.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { sha256 } from './contract.js';

const bucket = 'imghost-site';
let s3: S3Server;
let raw: S3Client;

const bytesOf = async (res: Response): Promise<Buffer> => Buffer.from(await res.arrayBuffer());

async function keysUnder(prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const page of paginateListObjectsV2({ client: raw }, { Bucket: bucket, Prefix: `${prefix}/` })) {
    for (const object of page.Contents ?? []) keys.push(object.Key ?? '');
  }
  return keys.sort();
}

const onS3 = (prefix: string, overrides: Partial<Config> = {}): Promise<TestServer> => startTestServer({
  store: `s3://${bucket}/${prefix}`,
  ...s3Options(s3),
  ...overrides,
});

before(async () => {
  s3 = await startS3();
  await s3.createBucket(bucket);
  raw = s3Client(s3);
});
after(async () => {
  await s3.stop();
  raw.destroy();
});

describe('imghost on an S3 store', () => {
  let s: TestServer;
  let original: Buffer;
  before(async () => {
    s = await onS3('site');
    original = await photo(320, 240, 'jpeg');
  });
  after(() => s.close());

  it('is ready when the bucket answers', async () => {
    const res = await s.fetch('/readyz');
    assert.equal(res.status, 200, await res.text());
  });

  it('stores an upload in the bucket and serves it byte-exact, with its thumbnail', async () => {
    const image = await s.uploadOk(original, { filename: 'photo.jpg', type: 'image/jpeg' });
    assert.ok((await keysUnder('site')).includes(`site/${sha256(original)}`));
    const res = await s.fetch(image.url);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'image/jpeg');
    assert.equal(res.headers.get('etag'), `"${sha256(original)}"`);
    assert.deepEqual(await bytesOf(res), original);
    const thumb = await s.fetch(image.thumb_url);
    assert.equal(thumb.status, 200);
    assert.equal((await bytesOf(thumb)).length, image.thumb.bytes);
  });

  it('answers a byte range with 206 and exactly those bytes', async () => {
    const image = await s.uploadOk(original);
    const res = await s.fetch(image.url, { headers: { range: 'bytes=100-1099' } });
    assert.equal(res.status, 206);
    assert.equal(res.headers.get('content-range'), `bytes 100-1099/${String(original.length)}`);
    assert.deepEqual(await bytesOf(res), original.subarray(100, 1100));
  });

  it('stores the same bytes once, and removes them with the last image that uses them', async () => {
    const bytes = await photo(200, 150, 'png');
    const first = await s.uploadOk(bytes);
    const second = await s.uploadOk(bytes);
    assert.notEqual(first.id, second.id);
    const prefix = 'site';
    const mine = [`${prefix}/${first.sha256}`, `${prefix}/${sha256(await bytesOf(await s.fetch(first.thumb_url)))}`].sort();
    const listed = await keysUnder(prefix);
    assert.deepEqual(listed.filter((k) => mine.includes(k)), mine, 'one original and one thumbnail');

    const del = (id: string, token: string) => s.fetch(`/api/images/${id}`, { method: 'DELETE', headers: { 'x-delete-token': token } });
    assert.equal((await del(first.id, first.delete_token)).status, 204);
    assert.deepEqual((await keysUnder(prefix)).filter((k) => mine.includes(k)), mine, 'still used by the second image');
    assert.deepEqual(await bytesOf(await s.fetch(second.url)), bytes);

    assert.equal((await del(second.id, second.delete_token)).status, 204);
    assert.deepEqual((await keysUnder(prefix)).filter((k) => mine.includes(k)), []);
    assert.deepEqual(await keysUnder(prefix), listed.filter((k) => !mine.includes(k)), 'nothing else removed, nothing left parked');
    assert.equal((await s.fetch(second.url).then(async (r) => { await r.arrayBuffer(); return r; })).status, 404);
  });

  it('collects a blob no image refers to, and keeps the ones images use', async () => {
    const image = await s.uploadOk(original);
    const orphan = Buffer.from('bytes of an upload that crashed before its record');
    await raw.send(new PutObjectCommand({ Bucket: bucket, Key: `site/${sha256(orphan)}`, Body: orphan }));
    const report = await s.server.library.collectGarbage(0);
    assert.ok(report.blobs.includes(sha256(orphan)), JSON.stringify(report));
    assert.ok(!report.blobs.includes(image.sha256));
    assert.ok(!(await keysUnder('site')).includes(`site/${sha256(orphan)}`));
    assert.deepEqual(await bytesOf(await s.fetch(image.url)), original);
  });
});

describe('imghost on an S3 store with s3_public_url', () => {
  let s: TestServer;
  const publicBase = (): string => `${s3.endpoint}/${bucket}`;
  before(async () => {
    // Let anyone read objects, as a bucket behind a public URL (or a CDN) would.
    const policy = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*` }] };
    await raw.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: JSON.stringify(policy) }));
    s = await onS3('pub', { s3_public_url: `${publicBase()}/` });
  });
  after(() => s.close());

  it('redirects GET to the object at the public URL, which serves the same bytes', async () => {
    const original = await photo(100, 80, 'webp');
    const image = await s.uploadOk(original);
    const res = await s.fetch(image.url, { redirect: 'manual' });
    await res.arrayBuffer();
    assert.equal(res.status, 302);
    const location = res.headers.get('location') ?? '';
    assert.equal(location, `${publicBase()}/pub/${image.sha256}`);
    const direct = await fetch(location);
    assert.equal(direct.status, 200);
    assert.equal(direct.headers.get('content-type'), 'image/webp', 'the bucket sends the detected type');
    assert.deepEqual(await bytesOf(direct), original);
    const thumb = await s.fetch(image.thumb_url, { redirect: 'manual' });
    await thumb.arrayBuffer();
    assert.equal(thumb.status, 302);
    assert.match(thumb.headers.get('location') ?? '', new RegExp(`^${publicBase()}/pub/[0-9a-f]{64}$`));
  });

  it('still answers HEAD itself, with the headers of the image', async () => {
    const original = await photo(90, 60, 'png');
    const image = await s.uploadOk(original);
    const res = await s.fetch(image.url, { method: 'HEAD', redirect: 'manual' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-length'), String(original.length));
    assert.equal(res.headers.get('etag'), `"${image.sha256}"`);
  });
});

/** A TCP relay to RGW that the test can cut and restore, standing in for a network outage. */
async function relay(target: URL): Promise<{ endpoint: string; listening(): boolean; cut(): Promise<void>; restore(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const listen = (port: number) => new Promise<Server>((resolve) => {
    const server = createServer((client) => {
      const upstream = connect(Number(target.port), target.hostname);
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
        socket.on('error', () => { client.destroy(); upstream.destroy(); });
      }
      client.pipe(upstream).pipe(client);
    });
    server.listen(port, '127.0.0.1', () => { resolve(server); });
  });
  let server = await listen(0);
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    endpoint: `http://127.0.0.1:${String(port)}`,
    /** Also how the relay is stopped for good: nothing of it is left to keep the process alive. */
    async cut() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => { server.close(resolve); });
    },
    async restore() { server = await listen(port); },
    listening: () => server.listening,
  };
}

describe('imghost when the object store goes away and comes back', () => {
  it('answers 503 naming the store while it is unreachable, and recovers by itself', async (t) => {
    const link = await relay(new URL(s3.endpoint));
    const s = await onS3('outage', { s3_endpoint: link.endpoint, store_timeout: 2 });
    t.after(async () => { await s.close(); if (link.listening()) await link.cut(); });
    const image = await s.uploadOk(await photo(120, 80));

    await link.cut();
    const ready = await s.fetch('/readyz');
    assert.equal(ready.status, 503);
    assert.deepEqual((await ready.json() as { down: string[] }).down, ['store']);
    const get = await s.fetch(image.url);
    assert.equal(get.status, 503);
    assert.ok(Number(get.headers.get('retry-after')) > 0);
    assert.equal((await get.json() as { error: string }).error, 'UNAVAILABLE');
    assert.equal((await s.fetch('/healthz')).status, 200);

    await link.restore();
    assert.equal((await s.fetch('/readyz')).status, 200);
    assert.equal((await s.fetch(image.url)).status, 200);
  });
});
