// The thumbnail child processes of this test process (src/images/thumbnailer.ts), and their memory.
import { readdir, readFile } from 'node:fs/promises';

/** Pids of this process's children running the thumbnail process. */
export async function thumbnailProcesses(): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const [stat, cmdline] = await Promise.all([readFile(`/proc/${entry}/stat`, 'utf8'), readFile(`/proc/${entry}/cmdline`, 'utf8')]);
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (parent === process.pid && cmdline.includes('thumbnail-process')) pids.push(Number(entry));
    } catch { /* the process ended while we looked */ }
  }
  return pids;
}

/** Resident bytes of a process now (VmRSS) and at its peak (VmHWM); zeros once it is gone. */
export async function memoryOf(pid: number): Promise<{ rss: number; peak: number }> {
  const status = await readFile(`/proc/${String(pid)}/status`, 'utf8').catch(() => '');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s*(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
  return { rss: kib('VmRSS'), peak: kib('VmHWM') };
}
