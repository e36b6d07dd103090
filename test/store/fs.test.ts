// FsStore, the embedded blob store, on a real temporary directory: the BlobStore contract
// (contract.ts), then what is particular to files: the on-disk layout, moving the source file,
// what list skips, the temp sweep by age, ping once the directory is gone, and a full disk.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { access, mkdir, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { StorageFull } from '../../src/errors.js';
import { FsStore } from '../../src/store/fs.js';
import { fill, mountWorks, smallDisk } from '../helpers/disk.js';
import { tempDir } from '../helpers/server.js';
import { blob, bytesOf, listAll, storeContract, unreferenced } from './contract.js';

const exists = (path: string): Promise<boolean> => access(path).then(() => true, () => false);

describe('FsStore', () => {
  let dir: string;
  let root: string;
  let store: FsStore;
  before(async () => { dir = await tempDir('imghost-fsstore-'); });
  after(() => rm(dir, { recursive: true, force: true }));

  storeContract('FsStore', async () => {
    const root = join(dir, randomBytes(4).toString('hex'));
    return {
      store: await new FsStore(root).init(),
      cleanup: () => rm(root, { recursive: true, force: true }),
      leftovers: () => readdir(join(root, '.tmp')),
    };
  });

  describe('on disk', () => {
    beforeEach(async () => {
      root = join(dir, randomBytes(4).toString('hex'));
      store = await new FsStore(root).init();
    });

    it('stores a blob at <root>/ab/cd/<key>', async () => {
      const { key, data } = blob();
      await store.put(key, data);
      assert.deepEqual(await readFile(join(root, key.slice(0, 2), key.slice(2, 4), key)), data);
    });

    it('stores a file by moving it into the store', async () => {
      const { key, data } = blob(50_000);
      const source = join(dir, `upload-${key}`);
      await writeFile(source, data);
      await store.put(key, { path: source });
      assert.equal(await exists(source), false, 'the source file should have been moved away');
      assert.deepEqual(await bytesOf(await store.read(key)), data);
    });

    it('writes nothing outside its root for a path-like key', async () => {
      await assert.rejects(store.put(`../../${'a'.repeat(64)}`, Buffer.from('x')), /invalid blob key/);
      assert.deepEqual((await readdir(dir)).filter((n) => n.startsWith('aaaa')), []);
      assert.deepEqual(await readdir(join(root, '.tmp')), []);
    });

    it('lists blobs only, not the other files under its root', async () => {
      const blobs = [blob(10), blob(200)];
      for (const { key, data } of blobs) await store.put(key, data);
      // Things that are not blobs: a temp file, a stray file at the top, a badly named file.
      await writeFile(join(root, '.tmp', `${'b'.repeat(64)}.abcdef`), 'partial');
      await writeFile(join(root, 'README'), 'not a blob');
      await mkdir(join(root, 'ab', 'cd'), { recursive: true });
      await writeFile(join(root, 'ab', 'cd', 'notes.txt'), 'not a blob');
      assert.deepEqual((await listAll(store)).map((b) => b.key).sort(), blobs.map((b) => b.key).sort());
    });

    it('sweeps only temporary files older than the cutoff, never blobs', async () => {
      const kept = blob();
      await store.put(kept.key, kept.data);
      const tmp = join(root, '.tmp');
      const old = join(tmp, `${'c'.repeat(64)}.000001`);
      const oldDeleting = join(tmp, `${'d'.repeat(64)}.deleting.000002`);
      const fresh = join(tmp, `${'e'.repeat(64)}.000003`);
      for (const path of [old, oldDeleting, fresh]) await writeFile(path, 'partial write');
      const longAgo = new Date('2020-01-01T00:00:00Z');
      await utimes(old, longAgo, longAgo);
      await utimes(oldDeleting, longAgo, longAgo);
      // Also make the blob itself old: sweep must still leave it alone.
      await utimes(join(root, kept.key.slice(0, 2), kept.key.slice(2, 4), kept.key), longAgo, longAgo);

      const { removed } = await store.sweep(new Date('2024-01-01T00:00:00Z'), unreferenced);
      assert.deepEqual(removed.sort(), [old, oldDeleting].sort());
      assert.deepEqual(await readdir(tmp), [`${'e'.repeat(64)}.000003`]);
      assert.deepEqual(await bytesOf(await store.read(kept.key)), kept.data);
    });

    it('answers ping while its directory exists, and rejects once it is gone', async () => {
      await store.ping();
      await rm(root, { recursive: true, force: true });
      await assert.rejects(store.ping());
    });
  });

  it('rejects a put with StorageFull (507, ENOSPC) on a full disk, leaving nothing, and stores again once there is room', { skip: mountWorks ? false : 'needs root and mount to make a small tmpfs' }, async () => {
    const disk = await smallDisk('1m');
    try {
      const full = await new FsStore(join(disk.dir, 'blobs')).init();
      await fill(join(disk.dir, 'filler'));
      const { key, data } = blob(64 * 1024);
      await assert.rejects(full.put(key, data), (err) => err instanceof StorageFull && err.status === 507 && err.code === 'ENOSPC');
      assert.deepEqual(await readdir(join(disk.dir, 'blobs', '.tmp')), [], 'no part of the blob is left');
      assert.equal(await full.has(key), false);
      await rm(join(disk.dir, 'filler'));
      await full.put(key, data);
      assert.deepEqual(await bytesOf(await full.read(key)), data);
    } finally {
      await disk.unmount();
    }
  });
});
