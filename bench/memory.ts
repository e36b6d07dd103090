// Scenario 4: peak resident memory of everything imghost runs (the server, or with --workers the
// supervisor and its workers, and each one's thumbnail process) while 32 uploads of the largest
// photos arrive at once, with the part each kind of process takes, for each large image class.
// The upload rate of the same run shows that memory was not bought with throughput.
import { setTimeout as sleep } from 'node:timers/promises';
import { uploadMany } from './client.js';
import type { Bench } from './context.js';
import { sampleTreeByRole, type Role } from './memory-sampler.js';
import { median, repeat, round } from './stats.js';

const UPLOADS = 32;
const MB = 1024 * 1024;
const CLASSES = ['jpeg-5120x2880', 'png-3840x2160', 'webp-4096x2560'] as const;

interface Run {
  before: number;
  peak: number;
  parts: Record<Role, number>;
  after: number;
  perSecond: number;
}

export async function memoryScenario(bench: Bench): Promise<void> {
  const workerCounts = bench.pick([1], [1, bench.cores]);
  for (const name of CLASSES) {
    const set = await bench.images(bench.imageClass(name));
    for (const workers of workerCounts) {
      const runs = await repeat(bench.runs, () => bench.withImghost([`--workers=${String(workers)}`], async (server) => {
        const pid = server.child.pid ?? 0;
        // One upload first, so every process has loaded its code: the peak is the uploads', not start-up's.
        await uploadMany(server.url, () => set.next(), set.cls.mime, workers * 2, workers * 2);
        await sleep(500);
        const sampler = sampleTreeByRole(pid);
        const before = (await sampler.now()).total;
        const { perSecond } = await uploadMany(server.url, () => set.next(), set.cls.mime, UPLOADS, UPLOADS);
        const { peak, parts } = await sampler.stop();
        await sleep(2000); // freed memory goes back to the system lazily
        const after = (await sampler.now()).total;
        return { before, peak, parts, after, perSecond } satisfies Run;
      }));
      const mb = (pick: (run: Run) => number): number => round(median(runs.map(pick)) / MB);
      bench.emit({
        scenario: 'memory',
        class: set.cls.name,
        bytes: set.template.length,
        uploads: UPLOADS,
        concurrency: UPLOADS,
        workers,
        rss_before_mb: mb((r) => r.before),
        peak_rss_mb: mb((r) => r.peak),
        peak_server_mb: mb((r) => r.parts.server),
        ...(workers > 1 ? { peak_workers_mb: mb((r) => r.parts.worker) } : {}),
        peak_thumbnail_mb: mb((r) => r.parts.thumbnail),
        rss_after_mb: mb((r) => r.after),
        uploads_per_s: round(median(runs.map((r) => r.perSecond))),
        runs_peak_mb: runs.map((r) => round(r.peak / MB)),
      });
    }
  }
}
