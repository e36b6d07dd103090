// Resident memory of a server's whole process tree, by the kind of process, sampled from Linux's
// /proc often enough to catch the peak of a burst: a thumbnail's decode lasts tens of
// milliseconds. Read from files rather than by running pgrep, so sampling costs little CPU.
import { readdir, readFile } from 'node:fs/promises';

/** The process started (server, or cluster supervisor with --workers), a cluster worker, a thumbnail process. */
export type Role = 'server' | 'worker' | 'thumbnail';

const SAMPLE_MS = 25;

/** Children of `pid`, from each of its threads' `children` file (Linux 3.5+). */
async function childrenOf(pid: number): Promise<number[]> {
  const tasks = await readdir(`/proc/${String(pid)}/task`).catch(() => []);
  const lists = await Promise.all(tasks.map((task) => readFile(`/proc/${String(pid)}/task/${task}/children`, 'utf8').catch(() => '')));
  return lists.join(' ').split(/\s+/).filter(Boolean).map(Number);
}

async function treeOf(pid: number): Promise<number[]> {
  const below = await Promise.all((await childrenOf(pid)).map(treeOf));
  return [pid, ...below.flat()];
}

async function residentBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${String(pid)}/status`, 'utf8').catch(() => '');
  return Number(/^VmRSS:\s*(\d+) kB/m.exec(status)?.[1] ?? 0) * 1024;
}

/** Which part of imghost process `pid` is; thumbnail processes are named by their entry module. */
async function roleOf(pid: number, root: number): Promise<Role> {
  if (pid === root) return 'server';
  const cmdline = await readFile(`/proc/${String(pid)}/cmdline`, 'utf8').catch(() => '');
  return cmdline.includes('thumbnail-process') ? 'thumbnail' : 'worker';
}

export interface TreeSample { total: number; parts: Record<Role, number> }

async function sample(root: number): Promise<TreeSample> {
  // Each role read afresh: a process just forked runs its parent's command line for a moment.
  const each = await Promise.all((await treeOf(root)).map(async (pid) => ({ role: await roleOf(pid, root), bytes: await residentBytes(pid) })));
  const parts: Record<Role, number> = { server: 0, worker: 0, thumbnail: 0 };
  for (const { role, bytes } of each) parts[role] += bytes;
  return { total: parts.server + parts.worker + parts.thumbnail, parts };
}

/**
 * Samples the tree under `root` every 25 ms until stopped. `peak` is the largest total seen;
 * `parts` the largest each kind of process reached (all of its processes together), which need
 * not have been at the same moment.
 */
export function sampleTreeByRole(root: number): { now(): Promise<TreeSample>; stop(): Promise<{ peak: number; parts: Record<Role, number> }> } {
  const parts: Record<Role, number> = { server: 0, worker: 0, thumbnail: 0 };
  let peak = 0;
  const take = async (): Promise<void> => {
    const seen = await sample(root);
    peak = Math.max(peak, seen.total);
    for (const role of Object.keys(parts) as Role[]) parts[role] = Math.max(parts[role], seen.parts[role]);
  };
  const stopped = new AbortController();
  const sampling = (async () => {
    while (!stopped.signal.aborted) {
      await take();
      await new Promise((resolve) => setTimeout(resolve, SAMPLE_MS));
    }
  })();
  return {
    now: () => sample(root),
    async stop() {
      stopped.abort();
      await sampling;
      await take();
      return { peak, parts };
    },
  };
}
