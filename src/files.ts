// Small filesystem helpers shared by the embedded store, the upload spool and backups.
import { access, open, readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';

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
