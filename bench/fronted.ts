// Scenario: imghost behind the documented nginx configuration (deploy/nginx/imghost.conf) with
// --accel_redirect, against nginx serving the same blob files statically, both with one worker
// per core and the same tuning, driven by the same wrk in turn: repeated thumbnail GETs (answered
// from nginx's cache) in requests/s, and whole 5120x2880 originals (decided by imghost, sent by
// nginx) in MB/s. For originals, the same nginx in front of the bare Node ceiling
// (bench/bare-node.ts) answering imghost's very X-Accel-Redirect answers from memory shows what
// any Node process deciding costs. imghost answering directly (a second server on the same
// library, without --accel_redirect) is measured too: wrk driving nginx faster than it shows the
// load generator is not what limits the figures.
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { startNginx as startFront, type Nginx } from '../test/helpers/nginx.js';
import { freePort } from '../test/helpers/process.js';
import { startBareNode } from './bare-node.js';
import type { Bench } from './context.js';
import type { Imghost } from './imghost-process.js';
import { blobPath, servingLibrary, type Served } from './populate.js';
import { STATIC_TUNING, startNginx, type Reference } from './references.js';
import { pairedRatio, ratio, round } from './stats.js';
import { alternateRounds, roundsOf, wrkInstalled, type Measured, type Rounds, type Target } from './wrk.js';

const MB = 1024 * 1024;

export async function frontedScenario(bench: Bench): Promise<void> {
  if (!wrkInstalled()) {
    for (const scenario of ['fronted-thumb', 'fronted-orig']) bench.emit({ scenario, wrk: 'unavailable', reference: 'unavailable' });
    return;
  }
  const { dataDir, thumbs, origs } = await servingLibrary(bench);
  const blobDir = join(dataDir, 'blobs');
  const statically = await startNginx(blobDir, bench.workDir, 'image/webp');
  if (!statically) {
    for (const scenario of ['fronted-thumb', 'fronted-orig']) bench.emit({ scenario, nginx: 'unavailable', reference: 'unavailable' });
    return;
  }
  const workers = `--workers=${String(bench.cores)}`;
  const front = async (upstream: string): Promise<Nginx> => startFront({
    port: await freePort(), upstream: new URL(upstream).host, blobDir,
    workDir: await mkdtemp(join(bench.workDir, 'front-')), workers: bench.cores, tuning: STATIC_TUNING,
  });
  try {
    await bench.withImghost([workers, '--trusted_proxies=127.0.0.1', '--accel_redirect=/internal/'], async (behind) => {
      const fronted = await front(behind.url);
      try {
        await bench.withImghost([workers], async (direct) => {
          const site: Site = { fronted: { url: fronted.url, pids: [fronted.pid, behind.child.pid ?? 0] }, statically, direct };
          await measureThumbs(bench, site, thumbs);
          await measureOrigs(bench, site, { behind, front }, origs);
        }, dataDir);
      } finally {
        await fronted.close();
      }
    }, dataDir);
  } finally {
    await statically.stop();
  }
}

/** nginx in front of imghost (the CPU of both is the site's), nginx alone, imghost alone. */
interface Site { fronted: Omit<Target, 'paths'>; statically: Reference; direct: Imghost }

/** Where imghost's process tree is among a fronted target's. */
const BEHIND = 1;

/** The site's targets for GETs of `paths` (and of the blob files `files` for nginx alone). */
const targetsOf = (site: Site, paths: readonly string[], files: readonly string[]) => ({
  fronted: { ...site.fronted, paths },
  statically: { url: site.statically.url, pids: [site.statically.pid], paths: files },
  direct: { url: site.direct.url, pids: [site.direct.child.pid ?? 0], paths },
});

async function measure<K extends string>(bench: Bench, targets: Record<K, Target>, connections: number): Promise<Record<K, Rounds>> {
  // Short rounds, many of them: the ratio of each round's pair is taken seconds apart.
  const rounds = await alternateRounds(bench.pick(3, 10), targets, { connections, seconds: bench.pick(2, 3) });
  return Object.fromEntries((Object.keys(targets) as K[]).map((name) => {
    const measured = roundsOf(rounds, name);
    if (measured?.each.length !== rounds.length) throw new Error(`${name} was not measured in every round`);
    return [name, measured];
  })) as Record<K, Rounds>;
}

/** `of`'s rate or bandwidth over nginx's alone: the median of the rounds' ratios, and each round's. */
function againstStatic(name: string, of: Rounds, statically: Rounds, figure: (m: Measured) => number): Record<string, unknown> {
  const [ours, reference] = [of.each.map(figure), statically.each.map(figure)];
  return { [`${name}x_nginx_static`]: pairedRatio(ours, reference), [`${name}x_nginx_static_rounds`]: ours.map((value, i) => ratio(value, reference[i] ?? null)) };
}

/** The CPU microseconds per request of the whole site, and of the server behind nginx as `behind`. */
const cpuOf = (name: string, m: Measured, behind = 'imghost'): Record<string, number> => ({
  [`${name}cpu_us_per_request`]: round(m.cpuUsPerRequest), [`${name}${behind}_cpu_us_per_request`]: round(m.cpuUsEach[BEHIND] ?? Number.NaN),
});

async function measureThumbs(bench: Bench, site: Site, thumbs: readonly Served[]): Promise<void> {
  const connections = 32;
  // The warm-up of each target fills nginx's cache: what is measured after it is repeated GETs.
  const { fronted, statically, direct } = await measure(bench, targetsOf(site, thumbs.map(({ id }) => `/imgs/${id}/thumb`), thumbs.map(({ hash }) => blobPath(hash))), connections);
  const rps = (m: Measured) => m.load.requestsPerSecond;
  bench.emit({
    scenario: 'fronted-thumb',
    workers: bench.cores,
    ids: thumbs.length,
    connections,
    rounds: fronted.each.length,
    rps: round(rps(fronted.median)),
    p99_ms: round(fronted.median.load.p99Ms),
    ...cpuOf('', fronted.median),
    nginx_static_rps: round(rps(statically.median)),
    nginx_static_p99_ms: round(statically.median.load.p99Ms),
    nginx_static_cpu_us_per_request: round(statically.median.cpuUsPerRequest),
    ...againstStatic('', fronted, statically, rps),
    direct_rps: round(rps(direct.median)),
    nginx_static_x_direct: pairedRatio(statically.each.map(rps), direct.each.map(rps)),
  });
}

/** The bare Node ceiling copies `behind`'s answers, and gets an nginx of its own from `front`. */
interface Ceiling { behind: Imghost; front: (upstream: string) => Promise<Nginx> }

async function measureOrigs(bench: Bench, site: Site, { behind, front }: Ceiling, origs: readonly Served[]): Promise<void> {
  const connections = 4;
  const paths = origs.map(({ id }) => `/imgs/${id}/orig`);
  const bare = await startBareNode(behind.url, paths, bench.cores, bench.workDir);
  const bareFronted = await front(bare.url);
  try {
    const targets = {
      ...targetsOf(site, paths, origs.map(({ hash }) => blobPath(hash))),
      bare: { url: bareFronted.url, pids: [bareFronted.pid, bare.pid], paths },
    };
    const { fronted, statically, direct, bare: ceiling } = await measure(bench, targets, connections);
    const bandwidth = (m: Measured) => m.load.bytesPerSecond;
    bench.emit({
      scenario: 'fronted-orig',
      workers: bench.cores,
      files: origs.length,
      connections,
      rounds: fronted.each.length,
      mb_per_s: round(bandwidth(fronted.median) / MB),
      ...cpuOf('', fronted.median),
      ...againstStatic('', fronted, statically, bandwidth),
      nginx_static_mb_per_s: round(bandwidth(statically.median) / MB),
      nginx_static_cpu_us_per_request: round(statically.median.cpuUsPerRequest),
      bare_node_mb_per_s: round(bandwidth(ceiling.median) / MB),
      ...cpuOf('bare_node_', ceiling.median, 'node'),
      ...againstStatic('bare_node_', ceiling, statically, bandwidth),
      direct_mb_per_s: round(bandwidth(direct.median) / MB),
      nginx_static_x_direct: pairedRatio(statically.each.map(bandwidth), direct.each.map(bandwidth)),
    });
  } finally {
    await bareFronted.close();
    await bare.stop();
  }
}
