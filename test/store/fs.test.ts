// FsStore, the embedded blob store, on a real temporary directory: content-addressed puts,
// whole and ranged reads, key validation, listing, the temp sweep, and the delete/upload race.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { access, mkdir, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { after, before, beforeEach, describe, it } from 'node:test';
import { BlobMissing } from '../../src/errors.js';
import { FsStore } from '../../src/store/fs.js';
import { tempDir } from '../helpers/server.js';

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

async function bytesOf(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const exists = (path: string): Promise<boolean> => access(path).then(() => true, () => false);

/** A blob and its key, distinct on every call. */
function blob(size = 1000): { key: string; data: Buffer } {
  const data = randomBytes(size);
  return { key: sha256(data), data };
}

describe('FsStore', () => {
  let dir: string;
  let root: string;
  let store: FsStore;
  before(async () => { dir = await tempDir('imghost-fsstore-'); });
  after(() => rm(dir, { recursive: true, force: true }));
  beforeEach(async () => {
    root = join(dir, randomBytes(4).toString('hex'));
    store = await new FsStore(root).init();
  });

  describe('put, has and read', () => {
    it('stores a buffer under its key, at <root>/ab/cd/<key>', async () => {
      const { key, data } = blob();
      assert.equal(await store.has(key), false);
      await store.put(key, data);
      assert.equal(await store.has(key), true);
      assert.deepEqual(await readFile(join(root, key.slice(0, 2), key.slice(2, 4), key)), data);
      assert.deepEqual(await bytesOf(await store.read(key)), data);
    });

    it('stores a file by moving it into the store', async () => {
      const { key, data } = blob(50_000);
      const source = join(dir, `upload-${key}`);
      await writeFile(source, data);
      await store.put(key, { path: source });
      assert.equal(await exists(source), false, 'the source file should have been moved away');
      assert.deepEqual(await bytesOf(await store.read(key)), data);
    });

    it('leaves nothing in its temporary directory after a put', async () => {
      const a = blob();
      const b = blob();
      await store.put(a.key, a.data);
      const source = join(dir, `upload-${b.key}`);
      await writeFile(source, b.data);
      await store.put(b.key, { path: source });
      assert.deepEqual(await readdir(join(root, '.tmp')), []);
    });

    it('keeps the blob whole when the same key is put twice', async () => {
      const { key, data } = blob();
      await store.put(key, data);
      await store.put(key, data);
      assert.deepEqual(await bytesOf(await store.read(key)), data);
    });

    it('reads an inclusive byte range exactly', async () => {
      const data = Buffer.from('0123456789abcdefghij');
      const key = sha256(data);
      await store.put(key, data);
      assert.equal((await bytesOf(await store.read(key, { start: 0, end: 0 }))).toString(), '0');
      assert.equal((await bytesOf(await store.read(key, { start: 3, end: 7 }))).toString(), '34567');
      assert.equal((await bytesOf(await store.read(key, { start: 15, end: 19 }))).toString(), 'fghij');
    });

    it('rejects a read of a missing key with BlobMissing when opening, not mid-stream', async () => {
      const { key } = blob();
      await assert.rejects(store.read(key), (err) => err instanceof BlobMissing && err.status === 404);
    });

    const invalid: [string, string][] = [
      ['too short', 'abc123'],
      ['upper case', 'A'.repeat(64)],
      ['not hex', 'g'.repeat(64)],
      ['65 characters', 'a'.repeat(65)],
      ['a path', `../${'a'.repeat(61)}`],
      ['a path with a valid key inside', `../../${'a'.repeat(64)}`],
      ['empty', ''],
    ];
    for (const [what, key] of invalid) {
      it(`refuses a key that is ${what}`, async () => {
        await assert.rejects(store.has(key), /invalid blob key/);
        await assert.rejects(store.put(key, Buffer.from('x')), /invalid blob key/);
        await assert.rejects(async () => store.read(key), /invalid blob key/);
        await assert.rejects(store.removeUnlessReferenced(key, () => Promise.resolve(false)), /invalid blob key/);
      });
    }

    it('writes nothing outside its root for a path-like key', async () => {
      await assert.rejects(store.put(`../../${'a'.repeat(64)}`, Buffer.from('x')), /invalid blob key/);
      assert.deepEqual((await readdir(dir)).filter((n) => n.startsWith('aaaa')), []);
      assert.deepEqual(await readdir(join(root, '.tmp')), []);
    });
  });

  describe('list', () => {
    it('yields every blob with its size, and nothing else', async () => {
      const blobs = [blob(10), blob(200), blob(3000), blob(1)];
      for (const { key, data } of blobs) await store.put(key, data);
      // Things that are not blobs: a temp file, a stray file at the top, a badly named file.
      await writeFile(join(root, '.tmp', `${'b'.repeat(64)}.abcdef`), 'partial');
      await writeFile(join(root, 'README'), 'not a blob');
      await mkdir(join(root, 'ab', 'cd'), { recursive: true });
      await writeFile(join(root, 'ab', 'cd', 'notes.txt'), 'not a blob');

      const listed = [];
      for await (const info of store.list()) listed.push(info);
      assert.deepEqual(
        listed.map((b) => [b.key, b.bytes]).sort(),
        blobs.map((b) => [b.key, b.data.length]).sort(),
      );
      assert.ok(listed.every((b) => b.modified instanceof Date && !Number.isNaN(b.modified.getTime())));
    });

    it('yields nothing for an empty store', async () => {
      const listed = [];
      for await (const info of store.list()) listed.push(info);
      assert.deepEqual(listed, []);
    });
  });

  describe('sweep', () => {
    it('removes only temporary files older than the cutoff, never blobs', async () => {
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

      const removed = await store.sweep(new Date('2024-01-01T00:00:00Z'));
      assert.deepEqual(removed.sort(), [old, oldDeleting].sort());
      assert.deepEqual(await readdir(tmp), [`${'e'.repeat(64)}.000003`]);
      assert.deepEqual(await bytesOf(await store.read(kept.key)), kept.data);
    });
  });

  describe('removeUnlessReferenced', () => {
    it('deletes an unreferenced blob and says so', async () => {
      const { key, data } = blob();
      await store.put(key, data);
      assert.equal(await store.removeUnlessReferenced(key, () => Promise.resolve(false)), true);
      assert.equal(await store.has(key), false);
      await assert.rejects(store.read(key), BlobMissing);
      assert.deepEqual(await readdir(join(root, '.tmp')), []);
    });

    it('keeps a blob that is referenced, without moving it', async () => {
      const { key, data } = blob();
      await store.put(key, data);
      let asked = 0;
      const removed = await store.removeUnlessReferenced(key, () => { asked++; return Promise.resolve(true); });
      assert.equal(removed, false);
      assert.equal(asked, 1);
      assert.deepEqual(await bytesOf(await store.read(key)), data);
    });

    it('answers false for a blob that is not there', async () => {
      const { key } = blob();
      assert.equal(await store.removeUnlessReferenced(key, () => Promise.resolve(false)), false);
    });

    it('puts the blob back when a reference appears during the removal', async () => {
      const { key, data } = blob();
      await store.put(key, data);
      let asked = 0;
      let presentWhenAskedAgain: boolean | null = null;
      const removed = await store.removeUnlessReferenced(key, async () => {
        asked++;
        // The second question comes once the blob is out of readers' reach.
        if (asked === 2) presentWhenAskedAgain = await store.has(key);
        return asked >= 2;
      });
      assert.equal(removed, false);
      assert.equal(asked, 2);
      assert.equal(presentWhenAskedAgain, false, 'the blob should be parked while the reference is checked again');
      assert.equal(await store.has(key), true);
      assert.deepEqual(await bytesOf(await store.read(key)), data);
      assert.deepEqual(await readdir(join(root, '.tmp')), []);
    });

    it('keeps the re-uploaded blob when a concurrent upload wrote it during the removal', async () => {
      const { key, data } = blob();
      await store.put(key, data);
      let asked = 0;
      const removed = await store.removeUnlessReferenced(key, async () => {
        asked++;
        if (asked === 2) await store.put(key, data);
        return asked >= 2;
      });
      assert.equal(removed, false);
      assert.deepEqual(await bytesOf(await store.read(key)), data);
      assert.deepEqual(await readdir(join(root, '.tmp')), []);
    });

    it('deletes for good when the reference is still absent on the second check', async () => {
      const { key, data } = blob();
      await store.put(key, data);
      let asked = 0;
      const removed = await store.removeUnlessReferenced(key, () => { asked++; return Promise.resolve(false); });
      assert.equal(removed, true);
      assert.equal(asked, 2);
      assert.equal(await store.has(key), false);
      assert.deepEqual(await readdir(join(root, '.tmp')), []);
    });
  });

  it('answers ping while its directory exists, and rejects once it is gone', async () => {
    await store.ping();
    await rm(root, { recursive: true, force: true });
    await assert.rejects(store.ping());
  });
});
