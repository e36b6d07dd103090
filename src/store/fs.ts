// The embedded blob store: one file per blob under <root>/ab/cd/<sha256>.
// Writes go to a temporary file in <root>/.tmp, are fsynced, then renamed into place. A removal
// parks the blob as <root>/.tmp/<sha256>.deleting.<random> while it checks references again.
// A full, read-only or unwritable disk met while storing, reading or removing a blob is reported
// as its catalogue error (StorageFull, StorageReadOnly, StorageNotWritable).
import { createReadStream, open as openFile, read as readFile } from 'node:fs';
import { finished, Readable } from 'node:stream';
import { copyFile, link, mkdir, rename, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BlobMissing, storageFailure } from '../errors.js';
import { fsyncPath, ignoreMissing, readdirIfAny } from '../files.js';
import { uniqueSuffix } from '../ids.js';
import { OpenFiles } from './open-files.js';
import { BLOB_KEY as KEY, readRestoringParked, type BlobInfo, type BlobStore, type ByteRange, type SweepReport } from './index.js';

export class FsStore implements BlobStore {
  private readonly tmp: string;
  private readonly files = new OpenFiles(OPEN_FILES);

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
    return join(this.root, this.localPath(key));
  }

  localPath(key: string): string {
    if (!KEY.test(key)) throw new Error(`invalid blob key ${key}`);
    return `${key.slice(0, 2)}/${key.slice(2, 4)}/${key}`;
  }

  async ping(): Promise<void> {
    await stat(this.tmp);
  }

  /** Closes the blob files kept open for reading (those still being read, once their reads end). */
  close(): Promise<void> {
    this.files.close();
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
    const path = this.path(key);
    // Opened here, so a missing blob is an error before any response rather than mid-response.
    let lease;
    try {
      lease = await this.files.lease(key, path);
    } catch (err) {
      throw (err as NodeJS.ErrnoException).code === 'ENOENT' ? new BlobMissing(key) : storageFailure(err);
    }
    const start = range?.start ?? 0;
    const end = Math.min(range?.end ?? Infinity, lease.bytes - 1);
    if (end < start) {
      lease.release();
      return Readable.from([]);
    }
    // Reads are positional (a start is always given), so readers can share the descriptor. A
    // range or file that fits one buffer is one read; a larger one is read a slice at a time.
    const stream = createReadStream('', {
      fd: lease.fd, fs: leasedFile, autoClose: false, start, end, highWaterMark: Math.min(end - start + 1, READ_BUFFER),
    });
    finished(stream, lease.release);
    return stream;
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
    this.files.forget(key);
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

/** A destroyed stream closes its descriptor; a leased one is the cache's to close, not the stream's. */
const leasedFile = { open: openFile, read: readFile, close: (_fd: number, done: (err: null) => void) => { done(null); } };

/** Blob files kept open for reading: well under the descriptor limit, and more than hot originals. */
const OPEN_FILES = 256;

/** Large files are read 256 KiB at a time: a quarter of the reads of the default 64 KiB, and little memory per download. */
const READ_BUFFER = 256 * 1024;

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
