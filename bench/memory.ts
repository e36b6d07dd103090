// Scenario 4: peak resident memory of the server during 32 concurrent uploads of the largest
// photos, and what it holds once they are done.
import { setTimeout as sleep } from 'node:timers/promises';
import { uploadMany } from './client.js';
import type { Bench } from './context.js';
import { median, repeat, round } from './stats.js';

const UPLOADS = 32;
const MB = 1024 * 1024;

export async function memoryScenario(bench: Bench): Promise<void> {
  const set = await bench.images(bench.imageClass('jpeg-5120x2880'));
  const runs = await repeat(bench.runs, () => bench.withImghost([], async (server) => {
    const before = await server.memory();
    await uploadMany(server.url, () => set.next(), set.cls.mime, UPLOADS, UPLOADS);
    const { peak } = await server.memory();
    await sleep(2000); // freed buffers go back to the system lazily
    const after = await server.memory();
    return { before: before.rss, peak, after: after.rss };
  }));
  bench.emit({
    scenario: 'memory',
    uploads: UPLOADS,
    concurrency: UPLOADS,
    class: set.cls.name,
    bytes: set.template.length,
    rss_before_mb: round(median(runs.map((r) => r.before)) / MB),
    peak_rss_mb: round(median(runs.map((r) => r.peak)) / MB),
    rss_after_mb: round(median(runs.map((r) => r.after)) / MB),
  });
}
