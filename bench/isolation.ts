// Scenario 3: does image processing leave serving alone? p99 of thumbnail GETs at a steady rate
// with no uploads, then while uploads of 5120x2880 photos keep the processing pool full; next to
// nginx serving the same files at the same rate to the same client (the floor of this machine
// and client: what no server could go below).
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { steadyLatencies, uploadInBackground } from './client.js';
import { smallPhoto, type Bench } from './context.js';
import { blobPath, populate } from './populate.js';
import { startNginx } from './references.js';
import { median, percentile, ratio, repeat, round } from './stats.js';

/** GETs per second: a busy site's thumbnails, far below what the server can answer. */
const RATE = 200;

export async function isolationScenario(bench: Bench): Promise<void> {
  const large = await bench.images(bench.imageClass('jpeg-5120x2880'));
  await bench.withImghost([], async (server, dataDir) => {
    const thumbs = await populate(server.url, await bench.images(smallPhoto), 200, 'thumb');
    const paths = thumbs.map(({ id }) => `/imgs/${id}/thumb`);
    const seconds = bench.pick(4, 10);
    // Enough uploads at once that the pool always has work waiting, twice its size.
    const uploaders = bench.cores * 4;
    await steadyLatencies(server.url, paths, RATE, 1); // warm-up
    const runs = await repeat(bench.runs, async (run) => {
      const idle = await steadyLatencies(server.url, paths, RATE, seconds);
      // Copies numbered apart from the main thread's, so none is a duplicate that skips its thumbnail.
      const uploading = uploadInBackground({
        url: server.url, template: large.template, mime: large.cls.mime, concurrency: uploaders, firstCopy: (run + 1) * 1_000_000,
      });
      let loaded: number[];
      const began = performance.now();
      try {
        await sleep(1000); // the pool fills up
        loaded = await steadyLatencies(server.url, paths, RATE, seconds);
      } catch (err) {
        await uploading.stop();
        throw err;
      }
      const uploads = await uploading.stop();
      return { idle, loaded, uploadsPerSecond: uploads / ((performance.now() - began) / 1000) };
    });
    const nginx = await startNginx(join(dataDir, 'blobs'), bench.workDir, 'image/png');
    let floorP99: number | null = null;
    try {
      if (nginx) {
        const files = thumbs.map(({ hash }) => blobPath(hash));
        await steadyLatencies(nginx.url, files, RATE, 1); // warm-up
        floorP99 = median(await repeat(bench.runs, async () => percentile(await steadyLatencies(nginx.url, files, RATE, seconds), 99)));
      }
    } finally {
      await nginx?.stop();
    }
    const idleP99 = median(runs.map((r) => percentile(r.idle, 99)));
    const loadedP99 = median(runs.map((r) => percentile(r.loaded, 99)));
    bench.emit({
      scenario: 'isolation',
      gets_per_s: RATE,
      uploaders,
      upload_class: large.cls.name,
      uploads_per_s: round(median(runs.map((r) => r.uploadsPerSecond))),
      idle_p50_ms: round(median(runs.map((r) => percentile(r.idle, 50)))),
      idle_p99_ms: round(idleP99),
      loaded_p50_ms: round(median(runs.map((r) => percentile(r.loaded, 50)))),
      loaded_p99_ms: round(loadedP99),
      x_idle_p99: ratio(loadedP99, idleP99),
      ...(floorP99 === null ? { nginx: 'unavailable' } : { nginx_idle_p99_ms: round(floorP99), idle_x_nginx_p99: ratio(idleP99, floorP99) }),
    });
  });
}
