// Scenario 1: uploads per second through POST /api/images for each image class at client
// concurrencies 4 and 16, next to the bare sharp pipeline (the ratio is the cost of HTTP and
// storage) and the Pillow thread pool of the original application.
import { rm } from 'node:fs/promises';
import { uploadMany } from './client.js';
import type { Bench, ImageSet } from './context.js';
import { imageClasses } from './images.js';
import { bareSharpPerSecond, pillowPerSecond } from './references.js';
import { median, ratio, repeat, round } from './stats.js';

const CONCURRENCIES = [4, 16] as const;

export async function uploadScenario(bench: Bench): Promise<void> {
  for (const cls of imageClasses) {
    const set = await bench.images(cls);
    const { bare, pillow } = await references(bench, set);
    await bench.withImghost([], async (server) => {
      // The first uploads pay for loading codecs and opening files: not part of the rate.
      await uploadMany(server.url, () => set.next(), cls.mime, 2, 2);
      for (const concurrency of CONCURRENCIES) {
        const count = bench.pick(Math.max(8, concurrency), concurrency * 4);
        const rates = await repeat(bench.runs, async () =>
          (await uploadMany(server.url, () => set.next(), cls.mime, count, concurrency)).perSecond);
        const perSecond = median(rates);
        bench.emit({
          scenario: 'upload',
          class: cls.name,
          bytes: set.template.length,
          concurrency,
          uploads_per_s: round(perSecond),
          bare_sharp_per_s: round(bare),
          x_bare_sharp: ratio(perSecond, bare),
          ...(pillow === null
            ? { pillow: 'unavailable', reference: 'unavailable' }
            : { pillow_per_s: round(pillow), x_pillow: ratio(perSecond, pillow) }),
          runs: rates.map(round),
        });
      }
    });
  }
}

async function references(bench: Bench, set: ImageSet): Promise<{ bare: number; pillow: number | null }> {
  const dir = await bench.dir('reference');
  try {
    const files = await set.files(dir, bench.pick(8, 24));
    // Each run on files it has not seen, so no cache of the pipeline's can answer for it.
    const bare = median(await repeat(bench.runs, async (run) =>
      bareSharpPerSecond(await set.files(`${dir}/bare-${String(run)}`, files.length))));
    const pillowRuns = await repeat(bench.runs, () => pillowPerSecond(files));
    const pillow = pillowRuns.includes(null) ? null : median(pillowRuns.filter((r) => r !== null));
    return { bare, pillow };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
