// Scenario 2: serving, driven by wrk (bench/wrk.ts), which drives nginx several times faster than
// any Node server answers, so the figures are the servers'. Thumbnail GETs per second with p50/p99
// and the server's CPU per request over a few hundred ids, with one process and with one per core,
// next to nginx serving the same files and the bare Node ceiling (bench/bare-node.ts) answering the
// same bytes with the same headers; originals in MB/s; ranged GETs.
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { startBareNode } from './bare-node.js';
import type { Bench } from './context.js';
import type { Imghost } from './imghost-process.js';
import { blobPath, servingLibrary, type Served } from './populate.js';
import { startNginx, type Reference } from './references.js';
import { ratio, round } from './stats.js';
import { alternate, wrkInstalled, type Measured } from './wrk.js';

const CONNECTIONS = 32;
const MB = 1024 * 1024;

export async function serveScenario(bench: Bench): Promise<void> {
  if (!wrkInstalled()) {
    for (const scenario of ['serve-thumb', 'serve-orig', 'serve-range']) bench.emit({ scenario, wrk: 'unavailable', reference: 'unavailable' });
    return;
  }
  const { dataDir, thumbs, origs } = await servingLibrary(bench);
  const nginx = await startNginx(join(dataDir, 'blobs'), bench.workDir, 'image/webp');
  try {
    for (const workers of bench.pick([bench.cores], [1, bench.cores])) {
      await bench.withImghost([`--workers=${String(workers)}`], async (server) => {
        await measureThumbs(bench, server, nginx, thumbs, workers);
        await measureOrigs(bench, server, nginx, origs, workers);
      }, dataDir);
    }
  } finally {
    await nginx?.stop();
  }
}

const figures = (m: Measured | null, prefix: string): Record<string, number | string> => (m
  ? { [`${prefix}rps`]: round(m.load.requestsPerSecond), [`${prefix}p50_ms`]: round(m.load.p50Ms), [`${prefix}p99_ms`]: round(m.load.p99Ms),
      [`${prefix}cpu_us_per_request`]: round(m.cpuUsPerRequest) }
  : { [`${prefix}rps`]: 'unavailable' });

async function measureThumbs(bench: Bench, server: Imghost, nginx: Reference | null, thumbs: readonly Served[], workers: number): Promise<void> {
  const paths = thumbs.map(({ id }) => `/imgs/${id}/thumb`);
  const bare = await startBareNode(server.url, paths, workers, bench.workDir);
  try {
    const targets = {
      ours: { url: server.url, pids: [server.child.pid ?? 0], paths },
      bare: { url: bare.url, pids: [bare.pid], paths },
      nginx: nginx ? { url: nginx.url, pids: [nginx.pid], paths: thumbs.map(({ hash }) => blobPath(hash)) } : null,
    };
    const load = { connections: CONNECTIONS, seconds: bench.pick(3, 10) };
    const { ours, bare: ceiling, nginx: theirs } = await alternate(bench.runs, targets, load);
    if (!ours) throw new Error('imghost was not measured');
    bench.emit({
      scenario: 'serve-thumb',
      workers,
      ids: thumbs.length,
      connections: CONNECTIONS,
      wrk_threads: 1,
      load_average: loadavg().map((l) => round(l)),
      ...figures(ours, ''),
      ...figures(ceiling, 'bare_node_'),
      x_bare_node: ceiling ? ratio(ours.load.requestsPerSecond, ceiling.load.requestsPerSecond) : null,
      ...(theirs
        ? { ...figures(theirs, 'nginx_'), x_nginx: ratio(ours.load.requestsPerSecond, theirs.load.requestsPerSecond),
            bare_node_x_nginx: ceiling ? ratio(ceiling.load.requestsPerSecond, theirs.load.requestsPerSecond) : null }
        : { nginx: 'unavailable', reference: 'unavailable' }),
    });
  } finally {
    await bare.stop();
  }
}

async function measureOrigs(bench: Bench, server: Imghost, nginx: Reference | null, origs: readonly Served[], workers: number): Promise<void> {
  const seconds = bench.pick(2, 6);
  const ours = { url: server.url, pids: [server.child.pid ?? 0], paths: origs.map(({ id }) => `/imgs/${id}/orig`) };
  const theirs = nginx ? { url: nginx.url, pids: [nginx.pid], paths: origs.map(({ hash }) => blobPath(hash)) } : null;
  const whole = await alternate(bench.runs, { ours, nginx: theirs }, { connections: 4, seconds });
  // A 64 KiB slice from the middle, as a video-like seek or a resumed download asks.
  const range = 'bytes=1048576-1114111';
  const ranged = await alternate(bench.runs, { ours, nginx: theirs }, { connections: CONNECTIONS, seconds, headers: { range } });
  const mbPerS = (m: Measured): number => round(m.load.bytesPerSecond / MB);
  if (!whole.ours || !ranged.ours) throw new Error('imghost was not measured');
  bench.emit({
    scenario: 'serve-orig',
    workers,
    files: origs.length,
    connections: 4,
    mb_per_s: mbPerS(whole.ours),
    p99_ms: round(whole.ours.load.p99Ms),
    cpu_us_per_request: round(whole.ours.cpuUsPerRequest),
    ...(whole.nginx
      ? { nginx_mb_per_s: mbPerS(whole.nginx), nginx_cpu_us_per_request: round(whole.nginx.cpuUsPerRequest),
          x_nginx: ratio(whole.ours.load.bytesPerSecond, whole.nginx.load.bytesPerSecond) }
      : { nginx: 'unavailable', reference: 'unavailable' }),
  });
  bench.emit({
    scenario: 'serve-range',
    workers,
    range,
    connections: CONNECTIONS,
    ...figures(ranged.ours, ''),
    ...(ranged.nginx
      ? { ...figures(ranged.nginx, 'nginx_'), x_nginx: ratio(ranged.ours.load.requestsPerSecond, ranged.nginx.load.requestsPerSecond) }
      : { nginx: 'unavailable', reference: 'unavailable' }),
  });
}
