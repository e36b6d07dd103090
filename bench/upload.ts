// Scenario 1: uploads per second through POST /api/images for each image class at client
// concurrencies 4 and 16, next to the bare sharp pipeline (the ratio is the cost of HTTP and
// storage), the bare Pillow thread pool of the original application, and the original
// application's whole upload path driven by the same client. The CPU each upload cost the
// server and its thumbnail process is measured too: it shows where the time goes.
import { rm } from 'node:fs/promises';
import { uploadMany } from './client.js';
import type { Bench, ImageSet } from './context.js';
import { treeCpuMs } from './cpu.js';
import { imageClasses } from './images.js';
import { bareSharp, pillowPerSecond, startOriginal } from './references.js';
import { median, ratio, repeat, round } from './stats.js';
import { uploadFloor } from './upload-floor.js';

const CONCURRENCIES = [4, 16] as const;

/** At one concurrency: the rate of each run, and CPU milliseconds per upload over all of them. */
interface Rates { perSecond: number[]; serverCpuMs: number; childrenCpuMs: number }

export async function uploadScenario(bench: Bench): Promise<void> {
  for (const cls of imageClasses) {
    const set = await bench.images(cls);
    const { bare, pillow } = await references(bench, set);
    const ours = await bench.withImghost([], (server) => uploadRates(bench, set, server.url, server.child.pid ?? 0));
    const original = await startOriginal(await bench.dir('original'));
    let theirs: Rates[] | null = null;
    try {
      if (original) theirs = await uploadRates(bench, set, original.url, original.pid);
    } finally {
      await original?.stop();
    }
    for (const [i, concurrency] of CONCURRENCIES.entries()) {
      const rates = ours[i];
      if (rates === undefined) continue;
      const perSecond = median(rates.perSecond);
      const originals = theirs?.[i];
      bench.emit({
        scenario: 'upload',
        class: cls.name,
        bytes: set.template.length,
        concurrency,
        uploads_per_s: round(perSecond),
        bare_sharp_per_s: round(bare.perSecond),
        x_bare_sharp: ratio(perSecond, bare.perSecond),
        ...(pillow === null
          ? { pillow: 'unavailable', reference: 'unavailable' }
          : { pillow_per_s: round(pillow), x_pillow: ratio(perSecond, pillow) }),
        ...(originals === undefined
          ? { original: 'unavailable' }
          : { original_per_s: round(median(originals.perSecond)), x_original: ratio(perSecond, median(originals.perSecond)) }),
        server_cpu_ms: round(rates.serverCpuMs),
        thumbnail_cpu_ms: round(rates.childrenCpuMs),
        bare_sharp_cpu_ms: round(bare.cpuMs),
        ...(originals === undefined ? {} : { original_cpu_ms: round(originals.serverCpuMs + originals.childrenCpuMs) }),
        runs: rates.perSecond.map(round),
      });
    }
    await emitFloor(bench, set, ours[0], theirs?.[0]);
  }
}

/** The class's floor, stage by stage, beside what an upload cost imghost and the original at concurrency 4. */
async function emitFloor(bench: Bench, set: ImageSet, ours: Rates | undefined, theirs: Rates | undefined): Promise<void> {
  const floor = await uploadFloor(bench, set, bench.pick(16, 32));
  const imghostCpu = ours === undefined ? null : ours.serverCpuMs + ours.childrenCpuMs;
  const originalCpu = theirs === undefined ? null : theirs.serverCpuMs + theirs.childrenCpuMs;
  bench.emit({
    scenario: 'upload-floor',
    class: set.cls.name,
    stages_cpu_ms: floor.stages,
    floor_cpu_ms: round(floor.total),
    imghost_cpu_ms: imghostCpu === null ? null : round(imghostCpu),
    x_floor: ratio(imghostCpu, floor.total),
    ...(originalCpu === null ? { original: 'unavailable' } : { original_cpu_ms: round(originalCpu), floor_x_original: ratio(floor.total, originalCpu) }),
    ...(floor.djpegMs === null ? {} : { djpeg_scale_1_8_ms: round(floor.djpegMs), thumbnail_x_djpeg: ratio(floor.stages.thumbnail ?? null, floor.djpegMs) }),
  });
}

/** Upload rates against the server at `url` (process `pid`) at each of CONCURRENCIES. */
async function uploadRates(bench: Bench, set: ImageSet, url: string, pid: number): Promise<Rates[]> {
  // The first uploads pay for loading codecs and opening files: not part of the rate.
  await uploadMany(url, () => set.next(), set.cls.mime, 2, 2);
  const results: Rates[] = [];
  for (const concurrency of CONCURRENCIES) {
    const count = bench.pick(Math.max(8, concurrency), concurrency * 4);
    const before = await treeCpuMs(pid);
    const perSecond = await repeat(bench.runs, async () => (await uploadMany(url, () => set.next(), set.cls.mime, count, concurrency)).perSecond);
    const after = await treeCpuMs(pid);
    const uploads = count * bench.runs;
    results.push({ perSecond, serverCpuMs: (after.own - before.own) / uploads, childrenCpuMs: (after.children - before.children) / uploads });
  }
  return results;
}

async function references(bench: Bench, set: ImageSet): Promise<{ bare: { perSecond: number; cpuMs: number }; pillow: number | null }> {
  const dir = await bench.dir('reference');
  try {
    const files = await set.files(dir, bench.pick(8, 24));
    // Each run on files it has not seen, so no cache of the pipeline's can answer for it.
    const bareRuns = await repeat(bench.runs, async (run) => bareSharp(await set.files(`${dir}/bare-${String(run)}`, files.length)));
    const bare = { perSecond: median(bareRuns.map((r) => r.perSecond)), cpuMs: median(bareRuns.map((r) => r.cpuMs)) };
    const pillowRuns = await repeat(bench.runs, () => pillowPerSecond(files));
    const pillow = pillowRuns.includes(null) ? null : median(pillowRuns.filter((r) => r !== null));
    return { bare, pillow };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
