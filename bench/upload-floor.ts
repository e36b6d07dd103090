// The floor of an upload's CPU: what the guarantees themselves cost, stage by stage, on the same
// files imghost is sent. Receiving the upload durably as any Node server would (bench/bare-upload.ts:
// HTTP, the multipart parser, the file written, fsynced and renamed), measured on that server's
// process; then, each alone in this process, SHA-256, metadata stripping, the database commits (a
// pending record, then the ready one with its sync), the header probe, the thumbnail (imghost's
// own pipeline) and its placeholder. And, for JPEG, libjpeg-turbo's `djpeg -scale 1/8`: the
// decode at 1/8 scale that any JPEG thumbnailer (sharp's shrink-on-load, Pillow's draft mode)
// pays at least.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { defaults } from '../src/config/options.js';
import { newId } from '../src/ids.js';
import { DEFAULT_TERMS } from '../src/repo/index.js';
import { makePlaceholder } from '../src/images/placeholder.js';
import { decodeLimits, probe } from '../src/images/probe.js';
import { makeRendition, specKey, squareSpec } from '../src/images/rendition.js';
import { metadataStripper } from '../src/images/strip/index.js';
import { openRepo } from '../src/open-storage.js';
import { startBareUpload } from './bare-upload.js';
import { uploadMany } from './client.js';
import type { Bench, ImageSet } from './context.js';
import { cpuMs } from './proc-tree.js';
import { round } from './stats.js';

const run = promisify(execFile);

/** What a socket hands over at a time on loopback, as the stripper sees it in the server. */
const CHUNK = 64 * 1024;

export interface Floor {
  /** CPU milliseconds per upload of each stage, and their sum. */
  stages: Record<string, number>;
  total: number;
  /** `djpeg -scale 1/8` per file, or null when djpeg is not installed (or the class is not JPEG). */
  djpegMs: number | null;
}

/** CPU milliseconds per call of `step` over every file, this process alone, after one call to warm it up. */
async function cpuPer(files: readonly string[], step: (file: string, i: number) => Promise<unknown>): Promise<number> {
  await step(files[0] ?? '', 0);
  const before = process.cpuUsage();
  for (const [i, file] of files.entries()) await step(file, i);
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000 / files.length;
}

async function strip(body: Buffer): Promise<void> {
  const chunks = Array.from({ length: Math.ceil(body.length / CHUNK) }, (_, i) => body.subarray(i * CHUNK, (i + 1) * CHUNK));
  await pipeline(Readable.from(chunks), metadataStripper(), new Writable({ write(_chunk, _encoding, done) { done(); } }));
}

/** CPU of `djpeg -scale 1/8` per file, read from the shell's `times` for its children. */
async function djpeg(files: readonly string[]): Promise<number | null> {
  try {
    const { stdout } = await run('bash', ['-c', 'for f in "$@"; do djpeg -scale 1/8 "$f" >/dev/null || exit 1; done; times', 'floor', ...files]);
    const children = stdout.trim().split('\n').at(-1) ?? '';
    const seconds = [...children.matchAll(/(\d+)m([\d.]+)s/g)].reduce((sum, [, m, s]) => sum + Number(m) * 60 + Number(s), 0);
    return (seconds * 1000) / files.length;
  } catch {
    return null;
  }
}

/** CPU milliseconds of the bare Node upload server per upload of `count` copies, 4 at a time. */
async function receive(bench: Bench, set: ImageSet, count: number): Promise<number> {
  const server = await startBareUpload(await bench.dir('bare-upload'));
  try {
    await uploadMany(server.url, () => set.next(), set.cls.mime, 4, 4);
    const before = await cpuMs(server.pid);
    await uploadMany(server.url, () => set.next(), set.cls.mime, count, 4);
    return (await cpuMs(server.pid) - before) / count;
  } finally {
    await server.stop();
  }
}

export async function uploadFloor(bench: Bench, set: ImageSet, count: number): Promise<Floor> {
  const files = await set.files(await bench.dir(`floor-${set.cls.name}`), count);
  const bodies = await Promise.all(files.map((file) => readFile(file)));
  const config = { ...defaults(), data_dir: await bench.dir('floor-library') };
  const limits = decodeLimits(config);
  const spec = squareSpec(config.thumb_size, config.thumb_format);
  const repo = await openRepo(config);
  const thumbs: Buffer[] = [];
  try {
    const stages: Record<string, number> = {
      receive: await receive(bench, set, count * 2),
      sha256: await cpuPer(files, (_, i) => Promise.resolve(createHash('sha256').update(bodies[i] ?? Buffer.alloc(0)).digest())),
      strip: await cpuPer(files, (_, i) => strip(bodies[i] ?? Buffer.alloc(0))),
      commit: await cpuPer(files, async (_, i) => {
        const id = newId();
        const blob = { hash: String(i).padStart(64, 'a'), bytes: 1, mime: set.cls.mime };
        await repo.insertPending({
          id, createdAt: new Date(), name: null, format: set.cls.format, width: set.cls.width, height: set.cls.height,
          orig: blob, thumb: { ...blob, width: 128, height: 80 }, thumbSpec: specKey(spec), deleteTokenHash: blob.hash,
          frames: 1, placeholder: null, ...DEFAULT_TERMS,
        });
        await repo.markReady(id);
      }),
      probe: await cpuPer(files, (file) => probe(file, limits)),
      thumbnail: await cpuPer(files, async (file) => { thumbs.push((await makeRendition(file, spec, limits)).data); }),
    };
    stages.placeholder = await cpuPer(files, (_, i) => makePlaceholder(thumbs[i] ?? Buffer.alloc(0)));
    const total = Object.values(stages).reduce((sum, ms) => sum + ms, 0);
    return { stages: Object.fromEntries(Object.entries(stages).map(([k, v]) => [k, round(v)])), total, djpegMs: set.cls.format === 'jpeg' ? await djpeg(files) : null };
  } finally {
    await repo.close();
  }
}
