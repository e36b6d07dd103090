// Small filesystem helpers shared by the embedded store, the upload spool and backups.
import { access, open, readdir, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';

/** Settles a file operation that may find its file already gone (removed or moved by another). */
export async function ignoreMissing(operation: Promise<unknown>): Promise<void> {
  try {
    await operation;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

export const pathExists = (path: string): Promise<boolean> => access(path).then(() => true, () => false);

/** Flushes a file, or a directory's entries (a rename into it), to the disk. */
export async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * A stream into a new file at `path` that writes what it is given `batch` bytes at a time, as one
 * writev of the chunks as they came. A socket hands over tens of kilobytes at a time and each
 * write is a trip through libuv's thread pool that costs more CPU than the bytes; copying the
 * chunks together instead would double the memory outside V8's heap that an upload allocates,
 * and with it the full garbage collections that memory brings on (docs/performance.md).
 */
export function batchedFileWriter(path: string, batch: number): Writable {
  let handle: FileHandle | null = null;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const writePending = async (file: FileHandle): Promise<void> => {
    let chunks = pending;
    pending = [];
    pendingBytes = 0;
    while (chunks.length > 0) {
      const { bytesWritten } = await file.writev(chunks);
      chunks = unwritten(chunks, bytesWritten);
    }
  };
  const closeFile = async (): Promise<void> => {
    const file = handle;
    handle = null;
    await file?.close();
  };
  return new Writable({
    construct(done) {
      open(path, 'w').then((file) => { handle = file; done(); }, done);
    },
    write(chunk: Buffer, _encoding, done) {
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (pendingBytes < batch || handle === null) { done(); return; }
      writePending(handle).then(() => { done(); }, done);
    },
    final(done) {
      if (handle === null) { done(); return; }
      writePending(handle).then(closeFile).then(() => { done(); }, done);
    },
    destroy(err, done) {
      closeFile().then(() => { done(err); }, () => { done(err); });
    },
  });
}

/** What is left of `chunks` after the first `written` bytes went out (a write may stop short). */
function unwritten(chunks: Buffer[], written: number): Buffer[] {
  let skip = written;
  const rest: Buffer[] = [];
  for (const chunk of chunks) {
    if (skip >= chunk.length) { skip -= chunk.length; continue; }
    rest.push(skip > 0 ? chunk.subarray(skip) : chunk);
    skip = 0;
  }
  return rest;
}

export async function readdirIfAny(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** Deletes the files of `dir` last modified before `cutoff`; returns their paths. */
export async function removeFilesOlderThan(dir: string, cutoff: Date): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await readdirIfAny(dir)) {
    const path = join(dir, name);
    const info = await stat(path).catch(() => null);
    if (info?.isFile() && info.mtime < cutoff) {
      await unlink(path).catch(() => undefined);
      removed.push(path);
    }
  }
  return removed;
}
