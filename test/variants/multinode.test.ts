// Variants on several nodes: two servers share one PostgreSQL and one S3 bucket (RADOS Gateway).
// A variant one node made is served by the other without an encode; first requests racing on
// both nodes end with one record; a delete on one node removes the variant's object from the
// bucket once no image uses it.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { after, before, describe, it } from 'node:test';
import { s3Client, s3Options, startS3, type S3Server } from '../helpers/ceph.js';
import { photo } from '../helpers/images.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { startTestServer, type TestServer, type UploadedImage } from '../helpers/server.js';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const BUCKET = 'variants';
const PREFIX = 'images';

interface Served { status: number; etag: string | null; body: Buffer }

describe('variants on two nodes sharing PostgreSQL and an S3 bucket', () => {
  let pg: TestPostgres;
  let s3: S3Server;
  let client: S3Client;
  let a: TestServer;
  let b: TestServer;

  before(async () => {
    [pg, s3] = await Promise.all([startPostgres(), startS3()]);
    await s3.createBucket(BUCKET);
    client = s3Client(s3);
    const shared = { db: pg.url, store: `s3://${BUCKET}/${PREFIX}`, ...s3Options(s3), cookie_secret: 'one-secret-for-both-nodes-0123456789' };
    [a, b] = await Promise.all([startTestServer(shared), startTestServer(shared)]);
  });
  after(async () => {
    await Promise.all([a.close(), b.close()]);
    client.destroy();
    await Promise.all([pg.stop(), s3.stop()]);
  });

  const encodes = (node: TestServer) => node.server.library.variants.encodes;
  const get = async (node: TestServer, path: string): Promise<Served> => {
    const res = await node.fetch(path);
    return { status: res.status, etag: res.headers.get('etag'), body: Buffer.from(await res.arrayBuffer()) };
  };
  const inBucket = (hash: string): Promise<boolean> =>
    client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `${PREFIX}/${hash}` })).then(() => true, (err: unknown) => {
      if (err instanceof Error && err.name === 'NotFound') return false;
      throw err;
    });
  const remove = (node: TestServer, image: UploadedImage) =>
    node.fetch(`/api/images/${image.id}`, { method: 'DELETE', headers: { 'x-delete-token': image.delete_token } });

  it('serves on one node, with no encode there, the variant another node made: same bytes, same ETag', async () => {
    const image = await a.uploadOk(await photo(1000, 700));
    const path = `/imgs/${image.id}/medium.webp`;
    const made = await get(a, path);
    assert.equal(made.status, 200);
    assert.equal(made.etag, `"${sha256(made.body)}"`);
    assert.equal(await inBucket(sha256(made.body)), true, 'the variant is stored in the bucket');
    const before = encodes(b);
    const served = await get(b, path);
    assert.equal(served.status, 200);
    assert.equal(served.etag, made.etag);
    assert.ok(served.body.equals(made.body));
    assert.equal(encodes(b), before, 'node b encoded nothing');
  });

  it('gives the same bytes to first requests racing on both nodes, and records the variant once', async (t) => {
    const image = await a.uploadOk(await photo(900, 600, 'png'));
    const path = `/imgs/${image.id}/small.avif`;
    const before = encodes(a) + encodes(b);
    const answers = await Promise.all([a, b, a, b].map((node) => get(node, path)));
    assert.deepEqual(answers.map((answer) => answer.status), [200, 200, 200, 200]);
    assert.equal(new Set(answers.map((answer) => answer.etag)).size, 1);
    assert.equal(new Set(answers.map((answer) => sha256(answer.body))).size, 1);
    const made = encodes(a) + encodes(b) - before;
    t.diagnostic(`${String(made)} encodes for the race`);
    assert.ok(made >= 1 && made <= 2, `one encode per node at most, ${String(made)} made`);
    const recorded = await a.server.library.repo.variantsOf(image.sha256);
    assert.deepEqual(recorded.map((variant) => [variant.spec, `"${variant.hash}"`]), [['320:avif', answers[0]?.etag]]);
  });

  it('removes the variant from the bucket with the last image using it, whichever node deletes', async () => {
    const data = await photo(800, 800);
    const first = await a.uploadOk(data);
    const second = await b.uploadOk(data);
    const variant = await get(b, `/imgs/${first.id}/small.jpg`);
    assert.equal(variant.status, 200);
    const hash = sha256(variant.body);
    assert.equal((await remove(a, first)).status, 204);
    assert.equal(await inBucket(hash), true, 'kept while the other image has the original');
    assert.ok((await get(a, `/imgs/${second.id}/small.jpg`)).body.equals(variant.body));
    assert.equal((await remove(a, second)).status, 204);
    assert.equal(await inBucket(hash), false, 'gone with the last image');
    assert.deepEqual(await b.server.library.repo.variantsOf(first.sha256), []);
  });
});
