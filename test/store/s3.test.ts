// S3Store against a real S3 server (Ceph RGW, which checks signatures): the BlobStore contract
// (contract.ts), then what is particular to S3: multipart uploads, refused credentials, the
// sweep of unfinished uploads and parked copies, unreachable or silent endpoints, public URLs.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CreateMultipartUploadCommand, HeadObjectCommand, ListMultipartUploadsCommand, paginateListObjectsV2,
  PutObjectCommand, S3Client, UploadPartCommand,
} from '@aws-sdk/client-s3';
import { defaults } from '../../src/config/options.js';
import { ConfigError, Unavailable } from '../../src/errors.js';
import { S3Store, type S3Options } from '../../src/store/s3.js';
import { s3Client, s3Options, startS3, type S3Server } from '../helpers/ceph.js';
import { freePort } from '../helpers/process.js';
import { blob, bytesOf, listAll, sha256, storeContract, unreferenced } from './contract.js';

const bucket = 'imghost-test';
let s3: S3Server;
let raw: S3Client;
let scratch: string;

const options = (overrides: Partial<S3Options> = {}): S3Options => ({
  ...defaults(),
  ...s3Options(s3),
  ...overrides,
});
const newPrefix = (): string => `t-${randomBytes(4).toString('hex')}`;

async function keysUnder(prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const page of paginateListObjectsV2({ client: raw }, { Bucket: bucket, Prefix: `${prefix}/` })) {
    for (const object of page.Contents ?? []) keys.push(object.Key ?? '');
  }
  return keys;
}

async function uploadsUnder(prefix: string): Promise<string[]> {
  const page = await raw.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: `${prefix}/` }));
  return (page.Uploads ?? []).map((u) => `${u.Key ?? ''} ${u.UploadId ?? ''}`);
}

before(async () => {
  s3 = await startS3();
  await s3.createBucket(bucket);
  raw = s3Client(s3);
  scratch = await mkdtemp(join(tmpdir(), 'imghost-s3store-'));
});
after(async () => {
  await s3.stop();
  raw.destroy();
  await rm(scratch, { recursive: true, force: true });
});

storeContract('S3Store', async () => {
  const prefix = newPrefix();
  const store = await S3Store.open(`s3://${bucket}/${prefix}`, options());
  return {
    store,
    cleanup: () => store.close(),
    leftovers: async () => [
      ...(await keysUnder(prefix)).filter((key) => !/^t-[0-9a-f]{8}\/[0-9a-f]{64}$/.test(key)),
      ...await uploadsUnder(prefix),
    ],
  };
});

describe('S3Store on RGW', () => {
  let prefix: string;
  let store: S3Store;
  const open = async (overrides: Partial<S3Options> = {}): Promise<S3Store> => {
    prefix = newPrefix();
    store = await S3Store.open(`s3://${bucket}/${prefix}`, options(overrides));
    return store;
  };
  // Each test opens its own store; close its connections whatever the outcome.
  const closing = (test: () => Promise<void>) => async () => {
    try {
      await test();
    } finally {
      await store.close();
    }
  };

  it('uploads a file larger than a part in parts, streamed, and reads it back byte-exact', closing(async () => {
    await open();
    const { key, data } = blob(12 * 1024 * 1024);
    const source = join(scratch, key);
    await writeFile(source, data);
    await store.put(key, { path: source });
    assert.deepEqual(await bytesOf(await store.read(key)), data);
    // A multipart object's ETag ends in -<parts>: three 5 MiB parts, not one PUT.
    const head = await raw.send(new HeadObjectCommand({ Bucket: bucket, Key: `${prefix}/${key}` }));
    assert.match(head.ETag ?? '', /-3"$/);
    assert.equal(head.ContentLength, data.length);
    // A range across the boundary of the first two parts.
    const start = 5 * 1024 * 1024 - 100;
    assert.deepEqual(await bytesOf(await store.read(key, { start, end: start + 199 })), data.subarray(start, start + 200));
    assert.deepEqual(await uploadsUnder(prefix), []);
  }));

  it('surfaces a refused signature as an error, never as a silent success or a missing blob', closing(async () => {
    await open({ s3_secret_access_key: 'not-the-secret-key-0123456789' });
    const { key, data } = blob();
    await assert.rejects(store.put(key, data), (err: Error) => !(err instanceof Unavailable) && /SignatureDoesNotMatch|403/.test(err.message));
    await assert.rejects(store.has(key), /403/);
    await assert.rejects(store.ping(), /403/);
    const good = await S3Store.open(`s3://${bucket}/${prefix}`, options());
    try {
      await assert.rejects(store.read(key), (err: Error) => err.name !== 'BlobMissing' && /SignatureDoesNotMatch|AccessDenied|403/.test(err.message));
      assert.equal(await good.has(key), false, 'nothing should have been written');
      await good.put(key, data);
      await assert.rejects(store.read(key), (err: Error) => err.name !== 'BlobMissing');
    } finally {
      await good.close();
    }
  }));

  it('lists only blobs directly under its prefix', closing(async () => {
    await open();
    const a = blob();
    await store.put(a.key, a.data);
    const others = [`${prefix}/README`, `${prefix}/.deleting/${a.key}.000000`, `${prefix}/sub/${sha256(Buffer.from('x'))}`,
      `${prefix}x/${sha256(Buffer.from('y'))}`, `${prefix}/${a.key.toUpperCase()}`];
    for (const Key of others) await raw.send(new PutObjectCommand({ Bucket: bucket, Key, Body: 'not a blob' }));
    assert.deepEqual((await listAll(store)).map((b) => b.key), [a.key]);
  }));

  it('sweeps unfinished multipart uploads and parked copies older than the cutoff, and nothing else', closing(async () => {
    await open();
    const kept = blob();
    await store.put(kept.key, kept.data);
    const stale = await raw.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: `${prefix}/${blob().key}` }));
    await raw.send(new UploadPartCommand({ Bucket: bucket, Key: stale.Key, UploadId: stale.UploadId, PartNumber: 1, Body: randomBytes(1000) }));
    const parked = `${prefix}/.deleting/${blob().key}.0a0b0c`;
    await raw.send(new PutObjectCommand({ Bucket: bucket, Key: parked, Body: 'parked' }));
    const elsewhere = await raw.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: `${newPrefix()}/${blob().key}` }));

    assert.deepEqual(await store.sweep(new Date(Date.now() - 3600_000), unreferenced), { removed: [], restored: [] }, 'nothing is that old yet');
    assert.equal((await uploadsUnder(prefix)).length, 1);

    const { removed } = await store.sweep(new Date(Date.now() + 60_000), unreferenced);
    assert.deepEqual(removed.sort(), [
      `s3://${bucket}/${parked}`,
      `s3://${bucket}/${stale.Key ?? ''} (unfinished upload ${stale.UploadId ?? ''})`,
    ].sort());
    assert.deepEqual(await uploadsUnder(prefix), []);
    assert.deepEqual(await keysUnder(prefix), [`${prefix}/${kept.key}`]);
    await assert.rejects(raw.send(new UploadPartCommand({ Bucket: bucket, Key: stale.Key, UploadId: stale.UploadId, PartNumber: 2, Body: 'x' })), { name: 'NoSuchUpload' });
    const others = await raw.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    assert.ok(others.Uploads?.some((u) => u.UploadId === elsewhere.UploadId), 'an upload outside the prefix should be left alone');
  }));

  it('answers Unavailable (503) when the endpoint is unreachable', closing(async () => {
    await open({ s3_endpoint: `http://127.0.0.1:${String(await freePort())}`, store_timeout: 1 });
    const unavailable = (err: unknown) => err instanceof Unavailable && err.status === 503 && /ECONNREFUSED/.test(err.message);
    const { key, data } = blob();
    await assert.rejects(store.ping(), unavailable);
    await assert.rejects(store.has(key), unavailable);
    await assert.rejects(store.put(key, data), unavailable);
    await assert.rejects(store.read(key), unavailable);
    await assert.rejects(listAll(store), unavailable);
  }));

  it('answers Unavailable once store_timeout passes on an endpoint that accepts but never answers', closing(async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => { sockets.add(socket); });
    await new Promise<void>((resolve) => { silent.listen(0, '127.0.0.1', resolve); });
    const address = silent.address();
    try {
      await open({ s3_endpoint: `http://127.0.0.1:${String(typeof address === 'object' && address ? address.port : 0)}`, store_timeout: 1 });
      await assert.rejects(store.has(blob().key), (err) => err instanceof Unavailable && /TimeoutError|ETIMEDOUT/.test(err.message));
      assert.ok(sockets.size >= 2, `the SDK should have retried (${String(sockets.size)} connections)`);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => { silent.close(resolve); });
    }
  }));

  it('takes credentials from the AWS_* variables when none are configured', closing(async () => {
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    process.env.AWS_ACCESS_KEY_ID = s3.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = s3.secretAccessKey;
    try {
      await open({ s3_access_key_id: '', s3_secret_access_key: '' });
      const { key, data } = blob();
      await store.put(key, data);
      assert.deepEqual(await bytesOf(await store.read(key)), data);
    } finally {
      for (const [name, value] of [['AWS_ACCESS_KEY_ID', saved.id], ['AWS_SECRET_ACCESS_KEY', saved.secret]] as const) {
        if (value === undefined) Reflect.deleteProperty(process.env, name);
        else process.env[name] = value;
      }
    }
  }));

  it('names a public URL for a blob only when s3_public_url is set', closing(async () => {
    const { key } = blob();
    await open();
    assert.equal(store.publicUrl(key), null);
    await store.close();
    await open({ s3_public_url: 'https://cdn.example.com/images/' });
    assert.equal(store.publicUrl(key), `https://cdn.example.com/images/${prefix}/${key}`);
    assert.throws(() => store.publicUrl('../etc/passwd'), /invalid blob key/);
  }));

  it('refuses a malformed location or half a key pair as a configuration error', () => {
    for (const url of ['s3://', 's3://ab', 's3://Upper/x', 's3://bucket/../x', 's3://bucket/.deleting', 's3://bucket?x=1']) {
      assert.throws(() => S3Store.open(url, options()), ConfigError, url);
    }
    assert.throws(() => S3Store.open(`s3://${bucket}`, options({ s3_secret_access_key: '' })), ConfigError);
    assert.throws(() => S3Store.open(`s3://${bucket}`, options({ s3_public_url: 'cdn.example.com' })), ConfigError);
  });
});
