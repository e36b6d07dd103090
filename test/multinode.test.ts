// Many nodes, one library: three servers (standing in for machines, each with its own local
// data directory) share one PostgreSQL and one S3 bucket; any node serves what any other stored.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { CopyObjectCommand, DeleteObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli, type CliResult } from './helpers/cli.js';
import { s3Client, s3Options, startS3, type S3Server } from './helpers/ceph.js';
import { textOf } from './helpers/html.js';
import { photo } from './helpers/images.js';
import { startPostgres, type TestPostgres } from './helpers/postgres.js';
import { multipart, startTestServer, tempDir, type TestServer, type UploadedImage } from './helpers/server.js';
import type { Config } from '../src/config/options.js';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const bytesOf = async (res: Response) => Buffer.from(await res.arrayBuffer());

describe('a library grown from the embedded default to several nodes on PostgreSQL and an S3 bucket', () => {
  let pg: TestPostgres;
  let s3: S3Server;
  let nodes: TestServer[] = [];
  const migrated = new Map<string, Buffer>();
  /** What every node and command is given to reach the shared library. */
  let shared: Partial<Config>;
  let s3Args: string[];
  let sharedArgs: string[];
  let cliDataDir: string;

  before(async () => {
    [pg, s3] = await Promise.all([startPostgres(), startS3()]);
    await s3.createBucket('library');
    shared = {
      db: pg.url,
      store: 's3://library/images',
      ...s3Options(s3),
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
      s3Args = [`--s3_endpoint=${s3.endpoint}`, `--s3_region=${s3.region}`, '--s3_force_path_style',
        `--s3_access_key_id=${s3.accessKeyId}`, `--s3_secret_access_key=${s3.secretAccessKey}`];
      const store = await runCli(['migrate-store', `--from=${join(embedded, 'blobs')}`, `--to=${shared.store}`, ...s3Args]);
      assert.equal(store.code, 0, store.stdout + store.stderr);
      assert.match(store.stdout, /6 copied, 0 already there, 0 failed/);
      const db = await runCli(['migrate-db', `--from=sqlite:${join(embedded, 'imghost.db')}`, `--to=${pg.url}`]);
      assert.equal(db.code, 0, db.stdout + db.stderr);
      assert.match(db.stdout, /3 copied, 0 already there/);
      // The copied objects carry the image's type, for buckets that serve them directly.
      const client = s3Client(s3);
      const types = await Promise.all([...migrated.values()].map(async (data) =>
        (await client.send(new HeadObjectCommand({ Bucket: 'library', Key: `images/${sha256(data)}` }))).ContentType));
      client.destroy();
      assert.deepEqual(types, ['image/jpeg', 'image/png', 'image/webp']);
    } finally {
      await rm(embedded, { recursive: true, force: true });
    }
    nodes = await Promise.all([startTestServer(shared), startTestServer(shared), startTestServer(shared)]);
    cliDataDir = await tempDir('imghost-cli-');
    sharedArgs = [`--db=${pg.url}`, `--store=${shared.store ?? ''}`, ...s3Args, `--data_dir=${cliDataDir}`];
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
    await rm(cliDataDir, { recursive: true, force: true });
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
    assert.equal(res.status, 201, textOf(await res.text()));
  });

  /** Every node serves the image's original byte for byte, and its thumbnail. */
  async function servedEverywhere(image: UploadedImage, data: Buffer): Promise<void> {
    for (const node of nodes) {
      assert.equal(sha256(await bytesOf(await node.fetch(image.url))), sha256(data), `${image.id} byte for byte on every node`);
      assert.equal((await node.fetch(image.thumb_url)).status, 200);
    }
  }

  async function assertVerifyClean(): Promise<void> {
    const verify = await runCli(['verify', ...sharedArgs]);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    assert.match(verify.stdout, /verify: \d+ images checked, 0 damaged\n$/);
  }

  it('loses no acknowledged upload to gc at grace 0 running over and over beside uploads on two nodes', async (t) => {
    const [a, b] = nodes;
    assert.ok(a && b);
    const twice = await photo(1200, 900);
    const pool = [twice, twice, await photo(1600, 1000), await photo(900, 700, 'png')];
    const uploadsDone = new AbortController();
    const gcRuns: CliResult[] = [];
    const gcLoop = (async () => {
      while (!uploadsDone.signal.aborted) gcRuns.push(await runCli(['gc', ...sharedArgs, '--gc_grace=0']));
    })();
    const answers: { status: number; body: string; data: Buffer }[] = [];
    const uploader = async (node: TestServer, offset: number): Promise<void> => {
      for (let i = offset; gcRuns.length < 2; i++) {
        const data = pool[i % pool.length] ?? twice;
        const res = await node.upload(data);
        answers.push({ status: res.status, body: await res.text(), data });
      }
    };
    await Promise.all([uploader(a, 0), uploader(a, 1), uploader(b, 2), uploader(b, 3)]);
    uploadsDone.abort();
    await gcLoop;
    t.diagnostic(`${String(answers.length)} uploads beside ${String(gcRuns.length)} gc runs`);
    for (const run of gcRuns) assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(answers.filter((x) => x.status !== 201).map((x) => `${String(x.status)} ${x.body}`), []);
    for (const { body, data } of answers) await servedEverywhere(JSON.parse(body) as UploadedImage, data);
    await assertVerifyClean();
  });

  it('keeps serving an image whose blob a delete killed half-way left parked, and verify stays clean', async () => {
    const [a, b] = nodes;
    assert.ok(a && b);
    const data = await photo(360, 240);
    // Node a deletes an image while node b uploads the same bytes (b finds the blob and stores
    // nothing), and a dies with the blob parked: its record gone, the original under .deleting/.
    const deleted = await a.uploadOk(data);
    const survivor = await b.uploadOk(data);
    assert.equal(await a.server.library.repo.remove(deleted.id), true);
    const client = s3Client(s3);
    try {
      const original = `images/${deleted.sha256}`;
      const parked = `images/.deleting/${deleted.sha256}.${randomBytes(6).toString('hex')}`;
      await client.send(new CopyObjectCommand({ Bucket: 'library', Key: parked, CopySource: `library/${original}` }));
      await client.send(new DeleteObjectCommand({ Bucket: 'library', Key: original }));
      await servedEverywhere(survivor, data);
      await client.send(new HeadObjectCommand({ Bucket: 'library', Key: original }));
    } finally {
      client.destroy();
    }
    const gc = await runCli(['gc', ...sharedArgs, '--gc_grace=0']);
    assert.equal(gc.code, 0, gc.stderr);
    await servedEverywhere(survivor, data);
    await assertVerifyClean();
  });
});
