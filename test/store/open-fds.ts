// This process's open descriptors, as the kernel lists them in /proc/self/fd.
import assert from 'node:assert/strict';
import { readdirSync, readlinkSync } from 'node:fs';

/** How many of this process's descriptors are open on files under `dir`. */
export function openUnder(dir: string): number {
  return readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`).startsWith(dir);
    } catch {
      return false; // closed while listing
    }
  }).length;
}

/** Waits for closes, which complete on libuv's thread pool, to be seen. */
export async function eventually(check: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.ok(check());
}
