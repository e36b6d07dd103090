// Load: one real `imghost serve` process takes thousands of uploads and tens of thousands of GETs
// from dozens of clients at once, with a small upload queue so some uploads are turned away.
// Every answer must be one a client can act on (2xx, 304, 4xx, or 503 with Retry-After; never a
// 500 or a dropped connection), the server's memory must stay flat once warmed up, and afterwards
// every image answered 201 is listed and served byte for byte and `imghost verify` finds the
// library whole. The server is a separate process so its RSS (/proc/<pid>/status) is its own.
//
// Short by default (1000 uploads and 10,000 GETs: 45-50 s on a 2-core machine busy with other
// tests, about half that when idle); scale it up for a long run with
// IMGHOST_SOAK_UPLOADS, IMGHOST_SOAK_GETS and IMGHOST_SOAK_CONCURRENCY.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import sharp from 'sharp';
import { assertVerifyClean } from './helpers/data-dir.js';
import { prng } from './helpers/hostile.js';
import { photo, scene, solid } from './helpers/images.js';
import { listedIds } from './helpers/listing.js';
import { freePort, serveCli, stopCli, type Running } from './helpers/process.js';
import { multipart, sitePath, tempDir, type UploadedImage } from './helpers/server.js';
import { gifPixelVariant, jpegPixelVariant, pngPixelVariant } from './helpers/variants.js';

function envCount(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`);
  return value;
}

const UPLOADS = envCount('IMGHOST_SOAK_UPLOADS', 1000);
const GETS = envCount('IMGHOST_SOAK_GETS', 10_000);
const CONCURRENCY = envCount('IMGHOST_SOAK_CONCURRENCY', 48);
/** The warm-up is this share of the run, with the same mix; memory is measured after it. */
const WARM_UP_SHARE = 0.1;
/** Two thumbnail slots (one per core) and two waiting: dozens of clients overflow it. */
const QUEUE_LIMIT = 2;
/**
 * Growth allowed between the warmed-up server and the server after the run. The in-memory blob
 * cache alone may fill by up to 32 MiB during the run (src/routes/images.ts), and V8 and malloc
 * keep some freed memory for reuse; a leak of a few KB per request grows past this over tens of
 * thousands of requests, and the long mode makes any leak obvious.
 */
const RSS_MARGIN = 64 * 1024 * 1024;
/** Pause before reading RSS, so requests still being torn down are done with. */
const SETTLE_MS = 1_000;
/** A 503'd upload is retried after a pause shorter than Retry-After (which is at least 1 s), to keep the queue full. */
const RETRY_PAUSE_MS = [50, 250] as const;
/** About 6 s of retrying: enough for an upload to get in while another test file shares the cores. */
const MAX_ATTEMPTS = 40;
const SEED = 7_2026;

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

interface ImageMaker { ext: string; mime: string; make(n: number): Buffer | Promise<Buffer> }

/**
 * Small to medium JPEG, PNG, GIF and WebP images; upload `n` gets its own pixels (a quantisation
 * step or palette colour rewritten, a WebP of its own colour), so every 201 is a distinct blob.
 */
async function imageMakers(): Promise<ImageMaker[]> {
  const jpegs = await Promise.all(([[96, 72], [320, 240], [640, 480]] as const).map(([w, h]) => photo(w, h)));
  const pngs = await Promise.all(([[64, 48], [300, 200], [600, 400]] as const)
    .map(async ([w, h], i) => sharp(await scene(w, h, 40 + i * 90)).png({ palette: true }).toBuffer()));
  const gifs = await Promise.all(([[80, 60], [240, 160]] as const)
    .map(async ([w, h], i) => sharp(await scene(w, h, 300 - i * 70)).gif().toBuffer()));
  const colour = (n: number) => `#${(n & 0xffffff).toString(16).padStart(6, '0')}`;
  return [
    ...jpegs.map((base) => ({ ext: 'jpg', mime: 'image/jpeg', make: (n: number) => jpegPixelVariant(base, n) })),
    ...pngs.map((base) => ({ ext: 'png', mime: 'image/png', make: (n: number) => pngPixelVariant(base, n) })),
    ...gifs.map((base) => ({ ext: 'gif', mime: 'image/gif', make: (n: number) => gifPixelVariant(base, n) })),
    ...([[48, 48], [200, 150], [400, 300]] as const)
      .map(([w, h]) => ({ ext: 'webp', mime: 'image/webp', make: (n: number) => solid(w, h, colour(n), 'webp') })),
  ];
}

type GetKind = 'thumb' | 'orig' | 'revalidate' | 'page' | 'json' | 'list' | 'missing';
type Kind = 'upload' | GetKind;

/** The GET mix, by weight: mostly images, as on a real host. */
const GET_MIX: readonly [GetKind, number][] = [
  ['thumb', 35], ['orig', 25], ['revalidate', 10], ['page', 10], ['json', 5], ['list', 10], ['missing', 5],
];
const MISSING_ID = 'AAAAAAAAAAAAAAAA';

/** An answer a client can act on: success, not modified, its own mistake, or "busy, come back then". */
function actionable(status: number, headers: Headers): boolean {
  return (status >= 200 && status < 300) || status === 304 || (status >= 400 && status < 500)
    || (status === 503 && /^\d+$/.test(headers.get('retry-after') ?? ''));
}

class Tally {
  readonly outcomes = new Map<string, number>();
  /** Answers that break the promise, or are not the one this request should get; the first few, in full. */
  readonly surprises: string[] = [];
  surpriseCount = 0;
  requests = 0;
  gaveUp = 0;

  count(outcome: string): void {
    this.requests++;
    this.outcomes.set(outcome, (this.outcomes.get(outcome) ?? 0) + 1);
  }

  surprise(what: string): void {
    if (++this.surpriseCount <= 20) this.surprises.push(what);
  }

  summary(): string {
    return [...this.outcomes].sort(([a], [b]) => a.localeCompare(b)).map(([outcome, n]) => `${outcome}: ${String(n)}`).join(', ');
  }
}

interface Answer { status: number; headers: Headers; body: Buffer }

/** One request, its body read to the end; a connection error is counted and reported, never thrown. */
async function send(tally: Tally, kind: Kind, url: string, expected: readonly number[], init?: RequestInit): Promise<Answer | null> {
  let answer: Answer;
  try {
    const res = await fetch(url, init);
    answer = { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    tally.count(`error ${cause?.code ?? 'fetch'}`);
    tally.surprise(`${kind} ${url}: ${String(err)} (${cause?.code ?? ''} ${cause?.message ?? ''})`);
    return null;
  }
  tally.count(String(answer.status));
  if (!actionable(answer.status, answer.headers) || !expected.includes(answer.status)) {
    tally.surprise(`${kind} ${url}: ${String(answer.status)} ${answer.body.subarray(0, 300).toString()}`);
  }
  return answer;
}

interface Soak {
  server: Running;
  makers: ImageMaker[];
  random: () => number;
  tally: Tally;
  /** Every image answered 201, in the order answered. */
  stored: UploadedImage[];
  /** The number of the next new upload; each gets its own pixels. */
  next: number;
}

async function upload(soak: Soak): Promise<void> {
  const n = soak.next++;
  const maker = soak.makers[n % soak.makers.length];
  if (!maker) throw new Error('no image makers');
  const data = await maker.make(n);
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const answer = await send(soak.tally, 'upload', `${soak.server.url}/api/images`, [201, 503],
      { method: 'POST', body: multipart(data, { filename: `soak-${String(n)}.${maker.ext}`, type: maker.mime }) });
    if (answer?.status === 201) {
      soak.stored.push(JSON.parse(answer.body.toString()) as UploadedImage);
      return;
    }
    if (answer?.status !== 503) return;
    const [least, most] = RETRY_PAUSE_MS;
    await sleep(least + soak.random() * (most - least));
  }
  soak.tally.gaveUp++;
}

function pickGet(random: () => number): GetKind {
  const total = GET_MIX.reduce((sum, [, weight]) => sum + weight, 0);
  let roll = random() * total;
  for (const [kind, weight] of GET_MIX) {
    roll -= weight;
    if (roll < 0) return kind;
  }
  return 'list';
}

async function get(soak: Soak): Promise<void> {
  const { server: { url }, tally } = soak;
  const image = soak.stored[Math.floor(soak.random() * soak.stored.length)];
  // Nothing stored yet: the list is all there is to read.
  if (!image) {
    await send(tally, 'list', `${url}/api/images?limit=50`, [200]);
    return;
  }
  const kind = pickGet(soak.random);
  switch (kind) {
    case 'thumb': {
      const answer = await send(tally, kind, `${url}${sitePath(image.thumb_url)}`, [200]);
      if (answer?.status === 200 && answer.body.length !== image.thumb.bytes) tally.surprise(`thumb ${image.id}: ${String(answer.body.length)} bytes`);
      return;
    }
    case 'orig': {
      const answer = await send(tally, kind, `${url}${sitePath(image.url)}`, [200]);
      if (answer?.status === 200 && answer.body.length !== image.bytes) tally.surprise(`orig ${image.id}: ${String(answer.body.length)} bytes`);
      return;
    }
    case 'revalidate':
      await send(tally, kind, `${url}${sitePath(image.url)}`, [304], { headers: { 'if-none-match': `"${image.sha256}"` } });
      return;
    case 'page':
      await send(tally, kind, `${url}${sitePath(image.page_url)}`, [200]);
      return;
    case 'json':
      await send(tally, kind, `${url}/api/images/${image.id}`, [200]);
      return;
    case 'list':
      await send(tally, kind, `${url}/api/images?limit=50`, [200]);
      return;
    case 'missing':
      await send(tally, kind, `${url}/imgs/${MISSING_ID}/thumb`, [404]);
      return;
  }
}

/** `uploads` uploads and `gets` GETs in a random interleaving, `CONCURRENCY` clients at a time. */
async function run(soak: Soak, uploads: number, gets: number): Promise<void> {
  const left = { uploads, gets };
  const client = async (): Promise<void> => {
    while (left.uploads + left.gets > 0) {
      if (soak.random() * (left.uploads + left.gets) < left.uploads) {
        left.uploads--;
        await upload(soak);
      } else {
        left.gets--;
        await get(soak);
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, client));
}

/** The server's resident memory in bytes, and its peak so far. */
async function memoryOf(pid: number): Promise<{ rss: number; peak: number }> {
  const status = await readFile(`/proc/${String(pid)}/status`, 'utf8');
  const kib = (field: string) => {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status);
    if (!match?.[1]) throw new Error(`no ${field} in /proc/${String(pid)}/status`);
    return Number(match[1]) * 1024;
  };
  return { rss: kib('VmRSS'), peak: kib('VmHWM') };
}

async function settledMemory(pid: number): Promise<number> {
  await sleep(SETTLE_MS);
  return (await memoryOf(pid)).rss;
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

/** Fetches `items` through `check`, `concurrency` at a time. */
async function forEachConcurrently<T>(items: readonly T[], concurrency: number, check: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    for (let item = items[next++]; item !== undefined; item = items[next++]) await check(item);
  }));
}

describe('soak: one server under sustained concurrent load', () => {
  it(`answers ${String(UPLOADS)} uploads and ${String(GETS)} GETs from ${String(CONCURRENCY)} clients with no 500 or reset, flat memory, nothing lost`, async (t) => {
    const dataDir = await tempDir('imghost-soak-');
    t.after(() => rm(dataDir, { recursive: true, force: true }));
    const port = await freePort();
    const server = await serveCli(t, port,
      // The clients all come from 127.0.0.1: the per-address bounds, meant for one client, are lifted.
      [`--port=${String(port)}`, `--data_dir=${dataDir}`, '--logging=warning', `--queue_limit=${String(QUEUE_LIMIT)}`,
        '--max_uploads_per_client=0', '--max_connections_per_ip=0']);
    const pid = server.child.pid;
    if (pid === undefined) throw new Error('the server has no pid');
    const soak: Soak = { server, makers: await imageMakers(), random: prng(SEED), tally: new Tally(), stored: [], next: 0 };

    await run(soak, Math.ceil(UPLOADS * WARM_UP_SHARE), Math.ceil(GETS * WARM_UP_SHARE));
    const warm = await settledMemory(pid);
    const started = Date.now();
    await run(soak, UPLOADS, GETS);
    const seconds = (Date.now() - started) / 1000;
    const after = await settledMemory(pid);
    const { peak } = await memoryOf(pid);
    const { tally, stored } = soak;
    t.diagnostic(`soak: ${String(tally.requests)} requests (${tally.summary()}), ${String(stored.length)} stored, `
      + `${String(tally.gaveUp)} uploads given up after ${String(MAX_ATTEMPTS)} busy answers; `
      + `RSS ${mib(warm)} warm, ${mib(after)} after, peak ${mib(peak)}; `
      + `${(tally.requests * (1 - WARM_UP_SHARE) / seconds).toFixed(0)} req/s over ${seconds.toFixed(1)} s; `
      + `${String(CONCURRENCY)} clients, queue_limit ${String(QUEUE_LIMIT)}`);

    assert.deepEqual(tally.surprises, [], `${String(tally.surpriseCount)} answers broke the promise or were not the expected one`);
    assert.ok((tally.outcomes.get('503') ?? 0) > 0, 'the upload queue overflowed, so 503s were exercised');
    assert.ok(after - warm <= RSS_MARGIN, `RSS grew ${mib(after - warm)} (from ${mib(warm)} to ${mib(after)}), over the ${mib(RSS_MARGIN)} margin`);
    assert.ok(stored.length >= 0.9 * soak.next, `${String(stored.length)} of ${String(soak.next)} uploads were stored`);
    assert.equal(new Set(stored.map((image) => image.sha256)).size, stored.length, 'every stored image is a distinct blob');

    const listed = await listedIds(server.url);
    assert.equal(listed.size, stored.length, 'the list holds exactly the images answered 201');
    await forEachConcurrently(stored, 8, async (image) => {
      assert.ok(listed.has(image.id), `${image.id} is listed`);
      const orig = await fetch(`${server.url}${sitePath(image.url)}`);
      assert.equal(orig.status, 200);
      assert.equal(sha256(Buffer.from(await orig.arrayBuffer())), image.sha256, `${image.id} is served byte for byte`);
      const thumb = await fetch(`${server.url}${sitePath(image.thumb_url)}`);
      assert.equal(thumb.status, 200);
      const { info } = await sharp(Buffer.from(await thumb.arrayBuffer())).raw().toBuffer({ resolveWithObject: true });
      assert.deepEqual([info.width, info.height], [image.thumb.width, image.thumb.height], `${image.id}'s thumbnail decodes`);
    });
    await stopCli(server);
    await assertVerifyClean(dataDir);
  });
});
