// CPU time used by a process and its children, from Linux's /proc: what an upload costs the
// server beside the thumbnail, measured rather than inferred from a rate.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** /proc counts CPU time in clock ticks of 1/100 s on Linux. */
const TICK_MS = 10;

export interface TreeCpu { own: number; children: number }

/** User + system CPU milliseconds of process `pid`, all its threads. */
async function cpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${String(pid)}/stat`, 'utf8');
  // Fields after the command name, which may hold spaces: state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}

/** CPU milliseconds so far of `pid` and of its children (imghost's thumbnail process). */
export async function treeCpuMs(pid: number): Promise<TreeCpu> {
  // pgrep exits 1 when there are none.
  const { stdout } = await run('pgrep', ['-P', String(pid)]).catch(() => ({ stdout: '' }));
  const children = await Promise.all(stdout.split('\n').filter(Boolean).map((child) => cpuMs(Number(child))));
  return { own: await cpuMs(pid), children: children.reduce((sum, ms) => sum + ms, 0) };
}
