// Scenario 2: serving. Thumbnail GETs per second with p50/p99 over a few hundred ids on
// keep-alive connections, with one process and with one per core, next to nginx serving the
// same files; originals in MB/s; ranged GETs.
import { join } from 'node:path';
import { saturate, type Saturation } from './client.js';
import { smallPhoto, type Bench } from './context.js';
import type { Imghost } from './imghost-process.js';
import { blobPath, populate, type Served } from './populate.js';
import { startNginx, type Reference } from './references.js';
import { median, ratio, repeat, round } from './stats.js';

const CONNECTIONS = 16;
const MB = 1024 * 1024;

export async function serveScenario(bench: Bench): Promise<void> {
  const dataDir = await bench.dir('data');
  const { thumbs, origs } = await bench.withImghost([], async (server) => ({
    thumbs: await populate(server.url, await bench.images(smallPhoto), bench.pick(100, 400), 'thumb'),
    origs: await populate(server.url, await bench.images(bench.imageClass('jpeg-5120x2880')), bench.pick(4, 8), 'orig'),
  }), dataDir);
  const nginx = await startNginx(join(dataDir, 'blobs'), bench.workDir, 'image/png');
  try {
    for (const workers of [1, bench.cores]) {
      await bench.withImghost([`--workers=${String(workers)}`], async (server) => {
        await measureThumbs(bench, server, nginx, thumbs, workers);
        await measureOrigs(bench, server, nginx, origs, workers);
      }, dataDir);
    }
  } finally {
    await nginx?.stop();
  }
}

type Target = Pick<Imghost, 'url'>;

async function measureThumbs(bench: Bench, server: Imghost, nginx: Reference | null, thumbs: readonly Served[], workers: number): Promise<void> {
  const seconds = bench.pick(3, 10);
  const ours = await medianLoad(bench, server, thumbs.map(({ id }) => `/imgs/${id}/thumb`), seconds);
  const theirs = nginx ? await medianLoad(bench, nginx, thumbs.map(({ hash }) => blobPath(hash)), seconds) : null;
  bench.emit({
    scenario: 'serve-thumb',
    workers,
    ids: thumbs.length,
    connections: CONNECTIONS,
    rps: round(ours.requestsPerSecond),
    p50_ms: ours.p50Ms,
    p99_ms: ours.p99Ms,
    ...(theirs
      ? { nginx_rps: round(theirs.requestsPerSecond), nginx_p99_ms: theirs.p99Ms, x_nginx: ratio(ours.requestsPerSecond, theirs.requestsPerSecond) }
      : { nginx: 'unavailable', reference: 'unavailable' }),
  });
}

async function measureOrigs(bench: Bench, server: Imghost, nginx: Reference | null, origs: readonly Served[], workers: number): Promise<void> {
  const seconds = bench.pick(2, 6);
  // A 64 KiB slice from the middle, as a video-like seek or a resumed download asks.
  const range = { range: 'bytes=1048576-1114111' };
  const whole = await medianLoad(bench, server, origs.map(({ id }) => `/imgs/${id}/orig`), seconds, 4);
  const ranged = await medianLoad(bench, server, origs.map(({ id }) => `/imgs/${id}/orig`), seconds, CONNECTIONS, range);
  const nginxWhole = nginx ? await medianLoad(bench, nginx, origs.map(({ hash }) => blobPath(hash)), seconds, 4) : null;
  const nginxRanged = nginx ? await medianLoad(bench, nginx, origs.map(({ hash }) => blobPath(hash)), seconds, CONNECTIONS, range) : null;
  bench.emit({
    scenario: 'serve-orig',
    workers,
    files: origs.length,
    connections: 4,
    mb_per_s: round(whole.bytesPerSecond / MB),
    p99_ms: whole.p99Ms,
    ...(nginxWhole
      ? { nginx_mb_per_s: round(nginxWhole.bytesPerSecond / MB), x_nginx: ratio(whole.bytesPerSecond, nginxWhole.bytesPerSecond) }
      : { nginx: 'unavailable', reference: 'unavailable' }),
  });
  bench.emit({
    scenario: 'serve-range',
    workers,
    range: range.range,
    connections: CONNECTIONS,
    rps: round(ranged.requestsPerSecond),
    p99_ms: ranged.p99Ms,
    ...(nginxRanged
      ? { nginx_rps: round(nginxRanged.requestsPerSecond), x_nginx: ratio(ranged.requestsPerSecond, nginxRanged.requestsPerSecond) }
      : { nginx: 'unavailable', reference: 'unavailable' }),
  });
}

/** The run with the median request rate of several. */
async function medianLoad(bench: Bench, target: Target, paths: readonly string[], seconds: number,
  connections = CONNECTIONS, headers: Record<string, string> = {}): Promise<Saturation> {
  const runs = await repeat(bench.runs, () => saturate(target.url, paths, connections, seconds, headers));
  const middle = median(runs.map((r) => r.requestsPerSecond));
  return runs.find((r) => r.requestsPerSecond === middle) ?? runs[0] as Saturation;
}
