// Real storage conditions for tests: a small tmpfs filled to its last page (ENOSPC). Mounting
// needs root and mount, which CI has; `mountWorks` says whether this run may.
import { execFile } from 'node:child_process';
import { open, rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import { tempDir } from './server.js';

export const run = promisify(execFile);

/** Whether this process may mount filesystems (root in a namespace that allows it). */
async function canMount(): Promise<boolean> {
  const dir = await tempDir('imghost-mount-probe-');
  try {
    await run('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir]);
    await run('umount', [dir]);
    return true;
  } catch {
    return false;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export const mountWorks = await canMount();

/** A fresh tmpfs of `size` (as mount's size= takes it); `unmount` also removes its mount point. */
export async function smallDisk(size: string): Promise<{ dir: string; unmount: () => Promise<void> }> {
  const dir = await tempDir('imghost-disk-');
  await run('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  return {
    dir,
    // Lazily: a failed test must not leave the mount behind because something still held it.
    unmount: async () => { await run('umount', ['--lazy', dir]); await rm(dir, { recursive: true, force: true }); },
  };
}

/** Writes until the filesystem refuses with ENOSPC, in shrinking pieces so not a page is left. */
export async function fill(path: string): Promise<void> {
  const file = await open(path, 'a');
  try {
    for (const size of [1024 * 1024, 4096]) {
      const chunk = Buffer.alloc(size);
      for (;;) {
        try {
          await file.write(chunk);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
          break;
        }
      }
    }
  } finally {
    await file.close();
  }
}
