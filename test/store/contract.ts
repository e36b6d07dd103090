// What every BlobStore adapter must do, run against each on a real backend (fs.test.ts, s3.test.ts):
// content-addressed puts, whole and ranged reads, key validation, listing, the sweep's limits,
// and the delete/upload race of removeUnlessReferenced.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { BlobMissing } from '../../src/errors.js';
import type { BlobInfo, BlobStore } from '../../src/store/index.js';

export interface OpenedStore {
  /** An empty store of its own. */
  store: BlobStore;
  cleanup(): Promise<void>;
  /** What the store keeps besides blobs (temporary files, parked copies, unfinished uploads). */
  leftovers(): Promise<string[]>;
}

export const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

export async function bytesOf(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** A blob and its key, distinct on every call. */
export function blob(size = 1000): { key: string; data: Buffer } {
  const data = randomBytes(size);
  return { key: sha256(data), data };
}

export async function listAll(store: BlobStore): Promise<BlobInfo[]> {
  const listed: BlobInfo[] = [];
  for await (const info of store.list()) listed.push(info);
  return listed;
}

/** For sweeps: no image needs any blob. */
export const unreferenced = (): Promise<boolean> => Promise.resolve(false);

export const invalidKeys: readonly [string, string][] = [
  ['too short', 'abc123'],
  ['upper case', 'A'.repeat(64)],
  ['not hex', 'g'.repeat(64)],
  ['65 characters', 'a'.repeat(65)],
  ['a path', `../${'a'.repeat(61)}`],
  ['a path with a valid key inside', `../../${'a'.repeat(64)}`],
  ['empty', ''],
];

export function storeContract(name: string, open: () => Promise<OpenedStore>): void {
  describe(`${name} (BlobStore contract)`, () => {
    let opened: OpenedStore;
    let store: BlobStore;
    let scratch: string;
    beforeEach(async () => {
      opened = await open();
      store = opened.store;
      scratch = await mkdtemp(join(tmpdir(), 'imghost-contract-'));
    });
    afterEach(async () => {
      await opened.cleanup();
      await rm(scratch, { recursive: true, force: true });
    });

    describe('put, has and read', () => {
      it('stores a buffer under its key', async () => {
        const { key, data } = blob();
        assert.equal(await store.has(key), false);
        await store.put(key, data);
        assert.equal(await store.has(key), true);
        assert.deepEqual(await bytesOf(await store.read(key)), data);
      });

      it('stores the bytes of a file', async () => {
        const { key, data } = blob(50_000);
        const source = join(scratch, `upload-${key}`);
        await writeFile(source, data);
        await store.put(key, { path: source });
        assert.deepEqual(await bytesOf(await store.read(key)), data);
      });

      it('leaves nothing but the blob behind after a put', async () => {
        const a = blob();
        const b = blob();
        await store.put(a.key, a.data);
        const source = join(scratch, `upload-${b.key}`);
        await writeFile(source, b.data);
        await store.put(b.key, { path: source });
        assert.deepEqual(await opened.leftovers(), []);
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

      for (const [what, key] of invalidKeys) {
        it(`refuses a key that is ${what}`, async () => {
          await assert.rejects(store.has(key), /invalid blob key/);
          await assert.rejects(store.put(key, Buffer.from('x')), /invalid blob key/);
          await assert.rejects(async () => store.read(key), /invalid blob key/);
          await assert.rejects(store.removeUnlessReferenced(key, () => Promise.resolve(false)), /invalid blob key/);
          assert.deepEqual(await listAll(store), []);
          assert.deepEqual(await opened.leftovers(), []);
        });
      }
    });

    describe('list', () => {
      it('yields every blob with its size and the time it was written', async () => {
        const blobs = [blob(10), blob(200), blob(3000), blob(1)];
        for (const { key, data } of blobs) await store.put(key, data);
        const listed = await listAll(store);
        assert.deepEqual(
          listed.map((b) => [b.key, b.bytes]).sort(),
          blobs.map((b) => [b.key, b.data.length]).sort(),
        );
        // gc compares this with its grace cutoff; a wrong clock or a zero date would delete fresh blobs.
        for (const { modified } of listed) assert.ok(Math.abs(modified.getTime() - Date.now()) < 10 * 60_000, `modified ${modified.toISOString()}`);
      });

      it('yields nothing for an empty store', async () => {
        assert.deepEqual(await listAll(store), []);
      });

      it('no longer yields a removed blob', async () => {
        const kept = blob();
        const gone = blob();
        await store.put(kept.key, kept.data);
        await store.put(gone.key, gone.data);
        assert.equal(await store.removeUnlessReferenced(gone.key, () => Promise.resolve(false)), true);
        assert.deepEqual((await listAll(store)).map((b) => b.key), [kept.key]);
      });
    });

    it('never sweeps a blob away, however old the cutoff makes it', async () => {
      const { key, data } = blob();
      await store.put(key, data);
      const { removed } = await store.sweep(new Date(Date.now() + 24 * 3600_000), unreferenced);
      assert.ok(!removed.some((r) => r.includes(key)), `sweep removed ${removed.join(', ')}`);
      assert.deepEqual(await bytesOf(await store.read(key)), data);
    });

    describe('removeUnlessReferenced', () => {
      it('deletes an unreferenced blob and says so', async () => {
        const { key, data } = blob();
        await store.put(key, data);
        assert.equal(await store.removeUnlessReferenced(key, () => Promise.resolve(false)), true);
        assert.equal(await store.has(key), false);
        await assert.rejects(store.read(key), BlobMissing);
        assert.deepEqual(await opened.leftovers(), []);
      });

      it('keeps a blob that is referenced, without moving it', async () => {
        const { key, data } = blob();
        await store.put(key, data);
        let asked = 0;
        const removed = await store.removeUnlessReferenced(key, () => { asked++; return Promise.resolve(true); });
        assert.equal(removed, false);
        assert.equal(asked, 1);
        assert.deepEqual(await bytesOf(await store.read(key)), data);
        assert.deepEqual(await opened.leftovers(), []);
      });

      it('answers false for a blob that is not there', async () => {
        const { key } = blob();
        assert.equal(await store.removeUnlessReferenced(key, () => Promise.resolve(false)), false);
        assert.deepEqual(await opened.leftovers(), []);
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
        assert.deepEqual((await listAll(store)).map((b) => b.key), [key]);
        assert.deepEqual(await opened.leftovers(), []);
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
        assert.deepEqual(await opened.leftovers(), []);
      });

      it('deletes for good when the reference is still absent on the second check', async () => {
        const { key, data } = blob();
        await store.put(key, data);
        let asked = 0;
        const removed = await store.removeUnlessReferenced(key, () => { asked++; return Promise.resolve(false); });
        assert.equal(removed, true);
        assert.equal(asked, 2);
        assert.equal(await store.has(key), false);
        assert.deepEqual(await opened.leftovers(), []);
      });
    });

    describe('a removal that died after parking the blob', () => {
      /** Starts a removal that stops for good once the blob is parked, as a process killed there would. */
      async function removalDiesAfterParking(key: string): Promise<void> {
        let parked = (): void => undefined;
        const reached = new Promise<void>((resolve) => { parked = resolve; });
        let asked = 0;
        void store.removeUnlessReferenced(key, () => {
          if (++asked === 1) return Promise.resolve(false);
          parked();
          return new Promise<boolean>(() => undefined);
        });
        await reached;
      }

      it('leaves a blob a referenced record can still read, and the read puts it back', async () => {
        const { key, data } = blob();
        await store.put(key, data);
        await removalDiesAfterParking(key);
        assert.equal(await store.has(key), false, 'the blob should be parked');
        assert.deepEqual(await bytesOf(await store.read(key)), data);
        assert.equal(await store.has(key), true);
        assert.deepEqual(await bytesOf(await store.read(key, { start: 10, end: 19 })), data.subarray(10, 20));
        assert.deepEqual(await opened.leftovers(), []);
      });

      it('gc restores it when an image needs it, and discards it when none does', async () => {
        const needed = blob();
        const unneeded = blob();
        for (const b of [needed, unneeded]) {
          await store.put(b.key, b.data);
          await removalDiesAfterParking(b.key);
        }
        const later = new Date(Date.now() + 60_000);
        const { removed, restored } = await store.sweep(later, (key) => Promise.resolve(key === needed.key));
        assert.deepEqual(restored, [needed.key]);
        assert.ok(!removed.some((r) => r.includes(needed.key)), `sweep removed ${removed.join(', ')}`);
        assert.ok(removed.some((r) => r.includes(unneeded.key)), `sweep removed ${removed.join(', ')}`);
        assert.deepEqual(await bytesOf(await store.read(needed.key)), needed.data);
        assert.equal(await store.has(unneeded.key), false);
        await assert.rejects(store.read(unneeded.key), BlobMissing);
        assert.deepEqual((await listAll(store)).map((b) => b.key), [needed.key]);
        assert.deepEqual(await opened.leftovers(), []);
      });

      it('is left parked by a sweep whose cutoff it is younger than', async () => {
        const { key, data } = blob();
        await store.put(key, data);
        await removalDiesAfterParking(key);
        await store.sweep(new Date(Date.now() - 60_000), () => Promise.resolve(true));
        assert.equal(await store.has(key), false);
        assert.equal((await opened.leftovers()).length, 1);
      });
    });

    it('answers ping', async () => {
      await store.ping();
    });
  });
}
