// CPU time used by a process and its children, from Linux's /proc: what an upload costs the
// server beside the thumbnail, measured rather than inferred from a rate.
import { childrenOf, cpuMs } from './proc-tree.js';

export interface TreeCpu { own: number; children: number }

/** CPU milliseconds so far of `pid` and of its children (imghost's thumbnail process). */
export async function treeCpuMs(pid: number): Promise<TreeCpu> {
  const children = await Promise.all((await childrenOf(pid)).map(cpuMs));
  return { own: await cpuMs(pid), children: children.reduce((sum, ms) => sum + ms, 0) };
}
