// A server's process tree from Linux's /proc: with --workers, the cluster's primary and its
// workers; under each, the thumbnail process. Memory and CPU of the whole tree, which is what a
// host pays for the server.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { memoryOf } from '../test/helpers/thumbnail-process.js';

const run = promisify(execFile);

/** /proc counts CPU time in clock ticks of 1/100 s on Linux. */
const TICK_MS = 10;

/** User + system CPU milliseconds of process `pid`, all its threads. */
export async function cpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${String(pid)}/stat`, 'utf8');
  // Fields after the command name, which may hold spaces: state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}

/** Pids of the children of `pid`. */
export async function childrenOf(pid: number): Promise<number[]> {
  // pgrep exits 1 when there are none.
  const { stdout } = await run('pgrep', ['-P', String(pid)]).catch(() => ({ stdout: '' }));
  return stdout.split('\n').filter(Boolean).map(Number);
}

/** `pid` and all its descendants. */
export async function treePids(pid: number): Promise<number[]> {
  const children = await childrenOf(pid);
  const below = await Promise.all(children.map(treePids));
  return [pid, ...below.flat()];
}

/** Resident bytes of the tree now (the sum of VmRSS), and each process's own peak (VmHWM), `pid`'s first. */
export async function treeMemory(pid: number): Promise<{ rss: number; peaks: number[] }> {
  const each = await Promise.all((await treePids(pid)).map(memoryOf));
  return { rss: each.reduce((sum, m) => sum + m.rss, 0), peaks: each.map((m) => m.peak) };
}

/** CPU milliseconds so far of the whole tree (processes that have ended are not counted). */
export async function treeCpuMsTotal(pid: number): Promise<number> {
  const each = await Promise.all((await treePids(pid)).map((p) => cpuMs(p).catch(() => 0)));
  return each.reduce((sum, ms) => sum + ms, 0);
}

/** Samples the tree's resident bytes every `everyMs` until stopped; resolves to the largest sum seen. */
export function sampleTreePeak(pid: number, everyMs = 20): { stop(): Promise<number> } {
  let peak = 0;
  const stopped = new AbortController();
  const sampling = (async () => {
    while (!stopped.signal.aborted) {
      peak = Math.max(peak, (await treeMemory(pid)).rss);
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  })();
  return {
    async stop() {
      stopped.abort();
      await sampling;
      return Math.max(peak, (await treeMemory(pid)).rss);
    },
  };
}
