// Variants under load. Cached: GETs of stored `medium.webp` variants through wrk, imghost with
// one worker per core and nginx serving the same blob files, alternately, with the CPU each
// request cost each server's process tree. Burst: 100 concurrent first requests, each for a
// different variant, and the peak memory of the server and its thumbnail process meanwhile.
import { join } from 'node:path';
import type { Bench } from './context.js';
import { blobHash, blobPath, type Served } from './populate.js';
import { sampleTreePeak, treeMemory } from './proc-tree.js';
import { startNginx, type Reference } from './references.js';
import { median, ratio, repeat, round } from './stats.js';
import { measuredWrk, medianRun, wrk, wrkInstalled, type Measured } from './wrk.js';

/** The rendition whose first request is timed (variants.ts), then served from the store here. */
export const FIRST = { name: 'medium', ext: 'webp', format: 'webp' } as const;
const FIRST_VARIANT = `${FIRST.name}.${FIRST.ext}`;

const CONNECTIONS = 32;
const BURST = 100;
const EXTENSIONS = ['webp', 'jpg', 'png', 'avif'] as const;
const MB = 1024 * 1024;

/**
 * The variants the burst asks of each image: every named size in every extension but the first
 * request's (made earlier); quick mode, the smallest size only, so the run stays short.
 */
function burstVariants(bench: Bench, sizes: ReadonlyMap<string, number>): string[] {
  const smallest = [...sizes].sort(([, a], [, b]) => a - b).slice(0, 1).map(([name]) => name);
  return bench.pick(smallest, [...sizes.keys()])
    .flatMap((name) => EXTENSIONS.map((ext) => `${name}.${ext}`)).filter((v) => v !== FIRST_VARIANT);
}

/** Images the burst needs for all its runs: each run asks for BURST variants never made. */
export function burstImageCount(bench: Bench, sizes: ReadonlyMap<string, number>): number {
  return Math.ceil(BURST / burstVariants(bench, sizes).length) * bench.runs;
}

/** A wrk run on `url`, with the CPU the tree of `pid` spent per request meanwhile. */
const measured = (url: string, pid: number, paths: readonly string[], seconds: number): Promise<Measured> =>
  measuredWrk(url, [pid], paths, { connections: CONNECTIONS, seconds });

export async function cachedScenario(bench: Bench, images: readonly Served[], dataDir: string): Promise<void> {
  const workers = bench.cores;
  const line = { scenario: 'variant-cached', variant: FIRST_VARIANT, workers, ids: images.length, connections: CONNECTIONS, wrk_threads: 1 };
  if (!wrkInstalled()) {
    bench.emit({ ...line, wrk: 'unavailable', reference: 'unavailable' });
    return;
  }
  const seconds = bench.pick(3, 10);
  const paths = images.map(({ id }) => `/imgs/${id}/${FIRST_VARIANT}`);
  await bench.withImghost([`--workers=${String(workers)}`], async (server) => {
    const hashes = await Promise.all(paths.map((path) => blobHash(server.url, path)));
    const nginx: Reference | null = await startNginx(join(dataDir, 'blobs'), bench.workDir, 'image/webp');
    try {
      const files = hashes.map(blobPath);
      // Warm both: JIT, the small-blob cache, nginx's open-file cache, the page cache.
      await wrk(server.url, paths, { connections: CONNECTIONS, seconds: 1 });
      if (nginx) await wrk(nginx.url, files, { connections: CONNECTIONS, seconds: 1 });
      const runs = await repeat(bench.runs, async () => ({
        ours: await measured(server.url, server.child.pid ?? 0, paths, seconds),
        theirs: nginx ? await measured(nginx.url, nginx.pid, files, seconds) : null,
      }));
      const ours = medianRun(runs.map((r) => r.ours));
      const nginxRuns = runs.flatMap((r) => (r.theirs ? [r.theirs] : []));
      const theirs = nginxRuns.length > 0 ? medianRun(nginxRuns) : null;
      bench.emit({
        ...line,
        answer_bytes: round(ours.load.bytesPerSecond / ours.load.requestsPerSecond),
        rps: round(ours.load.requestsPerSecond),
        p50_ms: round(ours.load.p50Ms),
        p99_ms: round(ours.load.p99Ms),
        cpu_us_per_request: round(ours.cpuUsPerRequest),
        ...(theirs
          ? {
              nginx_rps: round(theirs.load.requestsPerSecond),
              nginx_p99_ms: round(theirs.load.p99Ms),
              nginx_cpu_us_per_request: round(theirs.cpuUsPerRequest),
              x_nginx: ratio(ours.load.requestsPerSecond, theirs.load.requestsPerSecond),
            }
          : { nginx: 'unavailable', reference: 'unavailable' }),
      });
    } finally {
      await nginx?.stop();
    }
  }, dataDir);
}

interface Burst {
  ok: number;
  busy: number;
  seconds: number;
  /** Resident bytes of the server and its thumbnail process: before, and the largest sum sampled. */
  before: number;
  peak: number;
  /** Each process's own peak (VmHWM): the server's, and its descendants' together. */
  serverPeak: number;
  childrenPeak: number;
}

export async function burstScenario(bench: Bench, images: readonly Served[], dataDir: string, sizes: ReadonlyMap<string, number>): Promise<void> {
  const variants = burstVariants(bench, sizes);
  const paths = images.flatMap(({ id }) => variants.map((variant) => `/imgs/${id}/${variant}`));
  const runs = await repeat(bench.runs, (run) => bench.withImghost([], (server) =>
    burst(server.url, server.child.pid ?? 0, paths.slice(run * BURST, (run + 1) * BURST)), dataDir));
  bench.emit({
    scenario: 'variant-burst',
    requests: BURST,
    variants: variants.join(' '),
    answers_200: runs.reduce((sum, r) => sum + r.ok, 0),
    answers_503: runs.reduce((sum, r) => sum + r.busy, 0),
    seconds: round(median(runs.map((r) => r.seconds))),
    rss_before_mb: round(median(runs.map((r) => r.before)) / MB),
    peak_rss_mb: round(median(runs.map((r) => r.peak)) / MB),
    server_peak_rss_mb: round(median(runs.map((r) => r.serverPeak)) / MB),
    thumbnail_process_peak_rss_mb: round(median(runs.map((r) => r.childrenPeak)) / MB),
  });
}

/** All `paths` at once; fails on any answer but 200 (of the asked type) or 503 with Retry-After. */
async function burst(url: string, pid: number, paths: readonly string[]): Promise<Burst> {
  if (paths.length < BURST) throw new Error(`the burst has ${String(paths.length)} variants to ask for, not ${String(BURST)}`);
  const before = (await treeMemory(pid)).rss;
  const sampler = sampleTreePeak(pid);
  const began = performance.now();
  const statuses = await Promise.all(paths.map(async (path) => {
    const res = await fetch(`${url}${path}`);
    const body = await res.arrayBuffer();
    const type = res.headers.get('content-type') ?? '';
    const ext = path.slice(path.lastIndexOf('.') + 1);
    if (res.status === 200 && type === `image/${ext === 'jpg' ? 'jpeg' : ext}` && body.byteLength > 0) return 200;
    if (res.status === 503 && res.headers.has('retry-after')) return 503;
    throw new Error(`GET ${path} answered ${String(res.status)} (${type}, retry-after ${res.headers.get('retry-after') ?? 'none'})`);
  }));
  const seconds = (performance.now() - began) / 1000;
  const peak = await sampler.stop();
  const [serverPeak = 0, ...childPeaks] = (await treeMemory(pid)).peaks;
  return {
    ok: statuses.filter((s) => s === 200).length, busy: statuses.filter((s) => s === 503).length, seconds, before, peak,
    serverPeak, childrenPeak: childPeaks.reduce((sum, p) => sum + p, 0),
  };
}
