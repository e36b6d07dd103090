// Scenario: named variants of 4 MP photos. The first request of a variant (time to last byte of
// a GET that makes it: copy of the original out of the store, resize and encode in the thumbnail
// process, storing, answering) next to bare sharp making the same rendition with imghost's own
// function in this process; AVIF per named size; then cached variants under wrk next to nginx
// (variants-load.ts) and 100 concurrent first requests of different variants.
import { join } from 'node:path';
import { defaults } from '../src/config/options.js';
import { decodeLimits } from '../src/images/probe.js';
import { makeRendition, squareSpec, type RenditionSpec } from '../src/images/rendition.js';
import { parseVariants } from '../src/variants/spec.js';
import type { Bench } from './context.js';
import { blobPath, populate, type Served } from './populate.js';
import { median, percentile, ratio, round } from './stats.js';
import { burstImageCount, burstScenario, cachedScenario, FIRST } from './variants-load.js';

export async function variantsScenario(bench: Bench): Promise<void> {
  const set = await bench.images(bench.imageClass('jpeg-2560x1600'));
  const dataDir = await bench.dir('data');
  const sizes = parseVariants(defaults().variants);
  // Images for the burst come from the end of the list, so their variants are all still unmade.
  const avifImages = bench.pick(1, 3);
  const burstImages = burstImageCount(bench, sizes);
  const images = await bench.withImghost([], async (server) => {
    const served = await populate(server.url, set, bench.pick(12, 48) + burstImages, 'orig');
    const source = (image: Served): string => join(dataDir, 'blobs', blobPath(image.hash));
    let turn = 0;
    // Alternately imghost first, then bare sharp first, so a drift in the machine's speed touches both alike.
    const firstOf = async (image: Served, name: string, ext: string, spec: RenditionSpec): Promise<Pair> =>
      pair(server.url, `/imgs/${image.id}/${name}.${ext}`, source(image), spec, turn++ % 2 === 0);

    const firstPx = sizes.get(FIRST.name);
    if (firstPx === undefined) throw new Error(`--variants has no ${FIRST.name} size`);
    const firsts: Pair[] = [];
    for (const image of served.slice(0, served.length - burstImages)) {
      firsts.push(await firstOf(image, FIRST.name, FIRST.ext, squareSpec(firstPx, FIRST.format)));
    }
    emitPairs(bench, 'variant-first', `${FIRST.name}.${FIRST.ext}`, firstPx, set.cls.name, firsts);

    for (const [name, px] of sizes) {
      const avif: Pair[] = [];
      for (const image of served.slice(0, avifImages)) avif.push(await firstOf(image, name, 'avif', squareSpec(px, 'avif')));
      emitPairs(bench, 'variant-avif', `${name}.avif`, px, set.cls.name, avif);
    }
    return served;
  }, dataDir);
  const cached = images.slice(0, images.length - burstImages);
  await cachedScenario(bench, cached, dataDir);
  await burstScenario(bench, images.slice(images.length - burstImages), dataDir, sizes);
}

/**
 * One variant's first request through imghost, bare sharp making the same rendition, and a second
 * request of the variant (the stored blob: what HTTP and the lookup cost on their own).
 */
interface Pair { ms: number; bytes: number; bareMs: number; bareBytes: number; againMs: number }

async function pair(url: string, path: string, source: string, spec: RenditionSpec, oursFirst: boolean): Promise<Pair> {
  const served = async (): Promise<{ ms: number; bytes: number }> => {
    const began = performance.now();
    const res = await fetch(`${url}${path}`);
    const body = await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`GET ${path} answered ${String(res.status)}: ${Buffer.from(body).toString()}`);
    return { ms: performance.now() - began, bytes: body.byteLength };
  };
  const bare = async (): Promise<{ ms: number; bytes: number }> => {
    const began = performance.now();
    const made = await makeRendition(source, spec, decodeLimits(defaults()));
    return { ms: performance.now() - began, bytes: made.data.length };
  };
  const ours = oursFirst ? await served() : null;
  const theirs = await bare();
  const answer = ours ?? await served();
  return { ...answer, bareMs: theirs.ms, bareBytes: theirs.bytes, againMs: (await served()).ms };
}

function emitPairs(bench: Bench, scenario: string, variant: string, px: number, cls: string, pairs: readonly Pair[]): void {
  const ms = pairs.map((p) => p.ms);
  const bareMs = pairs.map((p) => p.bareMs);
  const { thumb_timeout, thumb_concurrency, queue_limit } = defaults();
  bench.emit({
    scenario,
    variant,
    box_px: px,
    class: cls,
    samples: pairs.length,
    bytes: median(pairs.map((p) => p.bytes)),
    // The server encodes the same stored file with the same function: the same bytes are expected.
    same_bytes_as_bare: pairs.every((p) => p.bytes === p.bareBytes),
    ttlb_ms: round(median(ms)),
    ttlb_p90_ms: round(percentile(ms, 90)),
    bare_sharp_ms: round(median(bareMs)),
    x_bare_sharp: ratio(median(ms), median(bareMs)),
    second_request_ms: round(median(pairs.map((p) => p.againMs))),
    ...(scenario === 'variant-avif' ? { bounded_by: { thumb_timeout_s: thumb_timeout, thumb_concurrency, queue_limit } } : {}),
  });
}
