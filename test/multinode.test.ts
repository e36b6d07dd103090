// Many nodes, one library: three servers (standing in for machines, each with its own local
// data directory) share one PostgreSQL and one S3 bucket; any node serves what any other stored.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from './helpers/cli.js';
import { startS3, type S3Server } from './helpers/ceph.js';
import { textOf } from './helpers/html.js';
import { photo } from './helpers/images.js';
import { startPostgres, type TestPostgres } from './helpers/postgres.js';
import { multipart, startTestServer, tempDir, type TestServer } from './helpers/server.js';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const bytesOf = async (res: Response) => Buffer.from(await res.arrayBuffer());

describe('a library grown from the embedded default to several nodes on PostgreSQL and an S3 bucket', () => {
  let pg: TestPostgres;
  let s3: S3Server;
  let nodes: TestServer[] = [];
  const migrated = new Map<string, Buffer>();

  before(async () => {
    [pg, s3] = await Promise.all([startPostgres(), startS3()]);
    await s3.createBucket('library');
    const shared = {
      db: pg.url,
      store: 's3://library/images',
      s3_endpoint: s3.endpoint,
      s3_region: s3.region,
      s3_force_path_style: true,
      s3_access_key_id: s3.accessKeyId,
      s3_secret_access_key: s3.secretAccessKey,
      cookie_secret: 'one-secret-for-every-node-0123456789',
    };

    // A user's library on the embedded default, moved with the two migrate commands.
    const embedded = await tempDir('imghost-embedded-');
    try {
      const one = await startTestServer({ data_dir: embedded });
      try {
        for (const data of [await photo(320, 240), await photo(100, 150, 'png'), await photo(64, 64, 'webp')]) {
          migrated.set((await one.uploadOk(data)).id, data);
        }
      } finally {
        await one.close();
      }
      const s3Args = [`--s3_endpoint=${s3.endpoint}`, `--s3_region=${s3.region}`, '--s3_force_path_style',
        `--s3_access_key_id=${s3.accessKeyId}`, `--s3_secret_access_key=${s3.secretAccessKey}`];
      const store = await runCli(['migrate-store', `--from=${join(embedded, 'blobs')}`, `--to=${shared.store}`, ...s3Args]);
      assert.equal(store.code, 0, store.stdout + store.stderr);
      assert.match(store.stdout, /6 copied, 0 already there, 0 failed/);
      const db = await runCli(['migrate-db', `--from=sqlite:${join(embedded, 'imghost.db')}`, `--to=${pg.url}`]);
      assert.equal(db.code, 0, db.stdout + db.stderr);
      assert.match(db.stdout, /3 copied, 0 already there/);
      // The copied objects carry the image's type, for buckets that serve them directly.
      const client = new S3Client({ endpoint: s3.endpoint, region: s3.region, forcePathStyle: true,
        credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } });
      const types = await Promise.all([...migrated.values()].map(async (data) =>
        (await client.send(new HeadObjectCommand({ Bucket: 'library', Key: `images/${sha256(data)}` }))).ContentType));
      client.destroy();
      assert.deepEqual(types, ['image/jpeg', 'image/png', 'image/webp']);
    } finally {
      await rm(embedded, { recursive: true, force: true });
    }
    nodes = await Promise.all([startTestServer(shared), startTestServer(shared), startTestServer(shared)]);
  });

  it('serves every migrated image byte-exact on every node, newest first as before', async () => {
    for (const node of nodes) {
      const list = await (await node.fetch('/api/images')).json() as { images: { id: string }[] };
      assert.deepEqual(list.images.map((image) => image.id), [...migrated.keys()].reverse());
      for (const [id, data] of migrated) {
        assert.equal(sha256(await bytesOf(await node.fetch(`/imgs/${id}/orig`))), sha256(data));
        assert.equal((await node.fetch(`/imgs/${id}/thumb`)).status, 200);
      }
    }
  });
  after(async () => {
    await Promise.all(nodes.map((node) => node.close()));
    await Promise.all([pg.stop(), s3.stop()]);
  });

  it('lists and serves byte-exact on every node what one node stored, and a delete on one is seen by all', async () => {
    const [a, b, c] = nodes;
    assert.ok(a && b && c);
    const data = await photo(500, 300);
    const image = await a.uploadOk(data, { filename: 'shared.jpg' });
    for (const node of nodes) {
      const list = await (await node.fetch('/api/images')).json() as { images: { id: string }[] };
      assert.equal(list.images[0]?.id, image.id);
      assert.equal(sha256(await bytesOf(await node.fetch(image.url))), sha256(data));
      assert.equal((await node.fetch(image.thumb_url)).status, 200);
    }
    const del = await c.fetch(`/api/images/${image.id}`, { method: 'DELETE', headers: { 'x-delete-token': image.delete_token } });
    assert.equal(del.status, 204);
    for (const node of nodes) assert.equal((await node.fetch(image.url)).status, 404);
  });

  it('keeps one copy of bytes uploaded through two nodes, until the last image using them is deleted', async () => {
    const [a, b] = nodes;
    assert.ok(a && b);
    const data = await photo(200, 200);
    const first = await a.uploadOk(data);
    const second = await b.uploadOk(data);
    assert.equal(first.sha256, second.sha256);
    await a.fetch(`/api/images/${first.id}`, { method: 'DELETE', headers: { 'x-delete-token': first.delete_token } });
    assert.equal(sha256(await bytesOf(await b.fetch(second.url))), sha256(data));
  });

  it('accepts on one node a form whose CSRF token another node issued (shared cookie secret)', async () => {
    const [a, b] = nodes;
    assert.ok(a && b);
    const page = await a.fetch('/');
    const cookie = (page.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const token = /name="_xsrf" value="([^"]+)"/.exec(await page.text())?.[1] ?? '';
    const form = new FormData();
    form.append('_xsrf', token);
    for (const [key, value] of multipart(await photo(64, 48)).entries()) form.append(key, value);
    const res = await b.fetch('/', { method: 'POST', body: form, headers: { cookie }, redirect: 'manual' });
    assert.equal(res.status, 303, textOf(await res.text()));
  });
});
