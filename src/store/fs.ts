// The embedded blob store: one file per blob under <root>/ab/cd/<sha256>.
// Writes go to a temporary file in <root>/.tmp, are fsynced, then renamed into place. A removal
// parks the blob as <root>/.tmp/<sha256>.deleting.<random> while it checks references again.
// A full, read-only or unwritable disk met while storing, reading or removing a blob is reported
// as its catalogue error (StorageFull, StorageReadOnly, StorageNotWritable).
import { createReadStream } from 'node:fs';
import { copyFile, link, mkdir, rename, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { BlobMissing, storageFailure } from '../errors.js';
import { fsyncPath, ignoreMissing, readdirIfAny } from '../files.js';
import { uniqueSuffix } from '../ids.js';
import { BLOB_KEY as KEY, readRestoringParked, type BlobInfo, type BlobStore, type ByteRange, type SweepReport } from './index.js';

export class FsStore implements BlobStore {
  private readonly tmp: string;

  constructor(private readonly root: string) {
    this.tmp = join(root, '.tmp');
  }

  /** With `create: false` the store must exist, and is only read: nothing is made in it. */
  async init({ create = true }: { create?: boolean } = {}): Promise<this> {
    if (create) await mkdir(this.tmp, { recursive: true });
    else if (!(await stat(this.root)).isDirectory()) throw new Error(`${this.root} is not a directory`);
    return this;
  }

  private path(key: string): string {
    if (!KEY.test(key)) throw new Error(`invalid blob key ${key}`);
    return join(this.root, key.slice(0, 2), key.slice(2, 4), key);
  }

  async ping(): Promise<void> {
    await stat(this.tmp);
  }

  /** Nothing to release: every file is closed when its operation ends. */
  close(): Promise<void> {
    return Promise.resolve();
  }

  async has(key: string): Promise<boolean> {
    return (await this.size(key)) !== null;
  }

  private async size(key: string): Promise<number | null> {
    try {
      return (await stat(this.path(key))).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw storageFailure(err);
    }
  }

  async put(key: string, source: { path: string } | Buffer): Promise<void> {
    const final = this.path(key);
    const temp = join(this.tmp, `${key}.${uniqueSuffix(6)}`);
    try {
      // Inside the try: a write cut short by a full disk must not leave its part behind.
      if (Buffer.isBuffer(source)) await writeFile(temp, source);
      else await moveOrCopy(source.path, temp);
      await fsyncPath(temp);
      await mkdir(join(final, '..'), { recursive: true });
      await rename(temp, final);
      await fsyncPath(join(final, '..'));
    } catch (err) {
      await unlink(temp).catch(() => undefined);
      throw storageFailure(err);
    }
  }

  /**
   * Stores the blob `key` of another embedded store (for backups): hard-linked when both are on
   * one filesystem, which is safe because a blob file is never written in place, else copied.
   * Rejects with ENOENT when `from` has no such blob.
   */
  async adopt(key: string, from: FsStore): Promise<'linked' | 'copied'> {
    const temp = join(this.tmp, `${key}.${uniqueSuffix(6)}.adopting`);
    let how: 'linked' | 'copied' = 'linked';
    try {
      await link(from.path(key), temp);
    } catch (err) {
      if (!cannotLink.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
      await copyFile(from.path(key), temp);
      how = 'copied';
    }
    await this.put(key, { path: temp });
    return how;
  }

  read(key: string, range?: ByteRange): Promise<Readable> {
    return readRestoringParked(() => this.open(key, range), () => this.restoreParked(key));
  }

  private async open(key: string, range?: ByteRange): Promise<Readable> {
    const stream = createReadStream(this.path(key), range ? { start: range.start, end: range.end } : {});
    // Resolve once the file is open, so a missing blob is an error here rather than mid-response.
    return await new Promise((resolve, reject) => {
      stream.once('open', () => { resolve(stream); });
      stream.once('error', (err: NodeJS.ErrnoException) => { reject(err.code === 'ENOENT' ? new BlobMissing(key) : storageFailure(err)); });
    });
  }

  async removeUnlessReferenced(key: string, isReferenced: () => Promise<boolean>): Promise<boolean> {
    if (await isReferenced()) return false;
    const final = this.path(key);
    const parked = join(this.tmp, `${key}${PARKED}${uniqueSuffix(6)}`);
    try {
      await rename(final, parked);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw storageFailure(err);
    }
    // Its age in .tmp is the time since it was parked, which is what the sweep goes by. A reader
    // may have put it back already.
    const now = new Date();
    await ignoreMissing(utimes(parked, now, now));
    if (await isReferenced()) {
      // An upload of the same bytes began meanwhile: put the blob back.
      await this.unpark(key, parked);
      return false;
    }
    // A reader or a sweep may have put it back meanwhile; then it stays, an orphan for gc.
    await ignoreMissing(unlink(parked));
    return true;
  }

  /** Puts a parked copy back unless the blob was rewritten meanwhile, then drops the copy. */
  private async unpark(key: string, parked: string): Promise<void> {
    const final = this.path(key);
    if ((await this.size(key)) === null) {
      await mkdir(join(final, '..'), { recursive: true });
      await ignoreMissing(rename(parked, final));
      await fsyncPath(join(final, '..'));
    } else {
      await ignoreMissing(unlink(parked));
    }
  }

  /** Puts back a copy of `key` that a removal parked; false when there is none. */
  private async restoreParked(key: string): Promise<boolean> {
    const copies = (await readdirIfAny(this.tmp)).filter((name) => name.startsWith(`${key}${PARKED}`));
    for (const name of copies) await this.unpark(key, join(this.tmp, name));
    return copies.length > 0;
  }

  async* list(): AsyncIterable<BlobInfo> {
    for (const a of await readdirIfAny(this.root)) {
      if (!/^[0-9a-f]{2}$/.test(a)) continue;
      for (const b of await readdirIfAny(join(this.root, a))) {
        for (const key of await readdirIfAny(join(this.root, a, b))) {
          if (!KEY.test(key)) continue;
          const info = await stat(join(this.root, a, b, key)).catch(() => null);
          if (info) yield { key, bytes: info.size, modified: info.mtime };
        }
      }
    }
  }

  async sweep(olderThan: Date, isReferenced: (key: string) => Promise<boolean>): Promise<SweepReport> {
    const report: SweepReport = { removed: [], restored: [] };
    for (const name of await readdirIfAny(this.tmp)) {
      const path = join(this.tmp, name);
      const info = await stat(path).catch(() => null);
      if (!info?.isFile() || info.mtime >= olderThan) continue;
      const key = name.slice(0, name.indexOf('.'));
      if (name.startsWith(`${key}${PARKED}`) && KEY.test(key) && await isReferenced(key)) {
        await this.unpark(key, path);
        report.restored.push(key);
        continue;
      }
      await ignoreMissing(unlink(path));
      report.removed.push(path);
    }
    return report;
  }
}

const PARKED = '.deleting.';

/** Another filesystem, one without hard links, a link count at its limit, or a link the kernel forbids. */
const cannotLink = new Set(['EXDEV', 'EPERM', 'EMLINK', 'ENOTSUP', 'EOPNOTSUPP']);

async function moveOrCopy(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    await copyFile(from, to);
  }
}
