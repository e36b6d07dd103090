// FsStore reads from the blob files it keeps open: ranges exact at a large file's start, middle
// and end (across read-buffer boundaries), whole files and empty ones, a bounded number of open
// files however many reads, and none left open for a removed blob or a closed store.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { BlobMissing } from '../../src/errors.js';
import { FsStore } from '../../src/store/fs.js';
import { tempDir } from '../helpers/server.js';
import { blob, bytesOf, sha256, unreferenced } from './contract.js';
import { eventually, openUnder } from './open-fds.js';

describe('FsStore reads', () => {
  let dir: string;
  let root: string;
  let store: FsStore;
  before(async () => { dir = await tempDir('imghost-fsreads-'); });
  after(() => rm(dir, { recursive: true, force: true }));
  afterEach(() => store.close());
  beforeEach(async () => {
    root = join(dir, randomBytes(4).toString('hex'));
    store = await new FsStore(root).init();
  });

  it('reads ranges exactly at the start, the middle and the end of a file larger than one read', async () => {
    const { key, data } = blob(1024 * 1024 + 7);
    await store.put(key, data);
    const last = data.length - 1;
    for (const [start, end] of [[0, 0], [0, 65_535], [262_140, 262_150], [500_000, 700_000], [last - 65_535, last], [last, last], [0, last]] as const) {
      assert.deepEqual(await bytesOf(await store.read(key, { start, end })), data.subarray(start, end + 1), `bytes ${String(start)}-${String(end)}`);
    }
    assert.deepEqual(await bytesOf(await store.read(key)), data);
  });

  it('reads an empty blob as no bytes', async () => {
    const data = Buffer.alloc(0);
    await store.put(sha256(data), data);
    assert.equal((await bytesOf(await store.read(sha256(data)))).length, 0);
  });

  it('serves concurrent and repeated reads of a blob from one open file, and closes it on close()', async () => {
    const { key, data } = blob(300_000);
    await store.put(key, data);
    for (let round = 0; round < 20; round++) {
      const reads = await Promise.all(Array.from({ length: 10 }, async () => bytesOf(await store.read(key, { start: 1000, end: 299_999 }))));
      for (const read of reads) assert.deepEqual(read, data.subarray(1000));
    }
    assert.equal(openUnder(root), 1);
    await store.close();
    await eventually(() => openUnder(root) === 0);
  });

  it('keeps a shared file open for other readers when one reader is destroyed mid-read', async () => {
    const { key, data } = blob(2 * 1024 * 1024);
    await store.put(key, data);
    const abandoned = await store.read(key);
    const whole = bytesOf(await store.read(key));
    abandoned.destroy();
    assert.deepEqual(await whole, data);
    assert.deepEqual(await bytesOf(await store.read(key, { start: 5, end: 9 })), data.subarray(5, 10));
  });

  it('keeps the number of open files bounded however many blobs are read', async () => {
    const blobs = Array.from({ length: 300 }, () => blob(100));
    for (const { key, data } of blobs) await store.put(key, data);
    for (const { key, data } of blobs) assert.deepEqual(await bytesOf(await store.read(key)), data);
    await eventually(() => openUnder(root) <= 256);
  });

  it('closes a removed blob\'s file and answers BlobMissing for it, not the bytes of the open file', async () => {
    const { key, data } = blob();
    await store.put(key, data);
    assert.deepEqual(await bytesOf(await store.read(key)), data);
    assert.equal(openUnder(root), 1);
    assert.equal(await store.removeUnlessReferenced(key, unreferenced), true);
    await eventually(() => openUnder(root) === 0);
    await assert.rejects(store.read(key), BlobMissing);
  });

  it('lets a read begun before a removal finish from its open file', async () => {
    const { key, data } = blob(1024 * 1024);
    await store.put(key, data);
    const reading = await store.read(key);
    assert.equal(await store.removeUnlessReferenced(key, unreferenced), true);
    assert.deepEqual(await bytesOf(reading), data);
    await eventually(() => openUnder(root) === 0);
  });
});
