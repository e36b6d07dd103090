// A storm of hostile uploads against a running `imghost serve`: every class of costly input from
// one client address at once, round after round, while another address uploads ordinary images
// and a monitor samples /healthz, /readyz and the peak memory of the server and its thumbnail
// process. Shared by test/hostile/storm.test.ts (modest sizes) and bench/hostile.ts (full sizes).
import { readdir, readFile } from 'node:fs/promises';
import { request } from 'node:http';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import sharp from 'sharp';
import { avifClaiming, gifClaiming, interlacedPng16Claiming, manyScanJpeg, progressiveCmykJpegClaiming } from '../helpers/decode-bombs.js';
import { gif, repeated, webpChunk, withWebpChunks } from '../helpers/hostile.js';
import { photo } from '../helpers/images.js';

const HOSTILE = '127.0.0.1';
export const ORDINARY = '127.0.0.2';
const MONITOR = '127.0.0.3';

export interface StormSize { rounds: number; gifFrames: number; webpChunks: number; scanSide: number; scans: number }
/** A few megabytes in all, so the test stays within seconds. */
export const modestStorm: StormSize = { rounds: 3, gifFrames: 200_000, webpChunks: 200_000, scanSide: 2000, scans: 2000 };
/** The sizes the single-class tests use: files near max_upload_size, 10,000 scans at 4000x4000. */
export const fullStorm: StormSize = { rounds: 3, gifFrames: 2_200_000, webpChunks: 4_000_000, scanSide: 4000, scans: 10_000 };

export interface HostileUpload { kind: string; data: Buffer; format: string }

/** Decode bombs (headers of 10000x10000 frames), a JPEG of many scans, a GIF of many blocks and a WebP of many chunks. */
export async function hostileUploads(size: StormSize): Promise<HostileUpload[]> {
  const exifPhoto = await sharp(await photo(64, 48)).withExif({ IFD0: { Make: 'PhoneCo' } }).webp().toBuffer();
  return [
    { kind: 'AVIF 12-bit with alpha', data: await avifClaiming(10_000, 10_000, true), format: 'avif' },
    { kind: 'progressive CMYK JPEG', data: await progressiveCmykJpegClaiming(10_000, 10_000), format: 'jpeg' },
    { kind: 'interlaced 16-bit PNG', data: await interlacedPng16Claiming(10_000, 10_000), format: 'png' },
    { kind: 'big GIF', data: await gifClaiming(10_000, 10_000), format: 'gif' },
    { kind: 'many-scan JPEG', data: await manyScanJpeg(size.scanSide, size.scanSide, size.scans), format: 'jpeg' },
    { kind: 'block-rich GIF', data: gif({ width: 1, height: 1, frames: size.gifFrames, comment: 'taken at home by Alice', timed: false }), format: 'gif' },
    { kind: 'many-chunk WebP with EXIF', data: withWebpChunks(exifPhoto, [repeated(webpChunk('JUNK', Buffer.alloc(0)), size.webpChunks)]), format: 'webp' },
  ];
}

export interface Answer { status: number; body: Buffer; ms: number }

/** One request from `localAddress` on a connection of its own; a raw octet-stream body when `body` is given. */
export function send(url: string, localAddress: string, path: string, body?: Buffer): Promise<Answer> {
  const started = performance.now();
  const headers = body ? { 'content-type': 'application/octet-stream', 'content-length': String(body.length) } : {};
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method: body ? 'POST' : 'GET', localAddress, agent: false, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => { chunks.push(chunk); });
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), ms: performance.now() - started }); });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

export interface Outcome { kind: string; answers: number[]; final: Answer; msTotal: number }

/** Uploads `data` like an impatient client: again at once after each 429 or 503, until another answer (at most `limitMs`). */
async function insist(url: string, { kind, data }: HostileUpload, limitMs = 30_000): Promise<Outcome> {
  const started = performance.now();
  const answers: number[] = [];
  for (;;) {
    const answer = await send(url, HOSTILE, `/api/images?name=${encodeURIComponent(kind)}`, data).catch((err: unknown) => {
      throw new Error(`${kind}: the connection was dropped after ${answers.join(', ') || 'no answer'}`, { cause: err });
    });
    answers.push(answer.status);
    const busy = answer.status === 429 || answer.status === 503;
    if (!busy || performance.now() - started > limitMs) return { kind, answers, final: answer, msTotal: performance.now() - started };
    await sleep(20);
  }
}

/**
 * An upload that announces `data.length` bytes and sends half: left to stall until the server gives
 * up on it (`hangUpAfterMs` undefined), or hung up on after `hangUpAfterMs`. Resolves with the
 * status the server answered, if any, once the connection is closed.
 */
function halfSent(url: string, data: Buffer, hangUpAfterMs?: number, limitMs = 30_000): Promise<number | null> {
  const { hostname, port } = new URL(url);
  const socket = connect({ host: hostname, port: Number(port), localAddress: HOSTILE });
  let text = '';
  socket.on('data', (chunk: Buffer) => { text += chunk.toString('latin1'); });
  socket.on('error', () => undefined);
  socket.on('connect', () => {
    socket.write(`POST /api/images HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/octet-stream\r\ncontent-length: ${String(data.length)}\r\n\r\n`);
    socket.write(data.subarray(0, data.length >> 1));
  });
  const hangUp = hangUpAfterMs === undefined ? undefined : setTimeout(() => socket.destroy(), hangUpAfterMs);
  const limit = setTimeout(() => socket.destroy(), limitMs);
  return new Promise((resolve) => {
    socket.on('close', () => {
      clearTimeout(hangUp);
      clearTimeout(limit);
      const status = /^HTTP\/1\.1 (\d{3}) /.exec(text)?.[1];
      resolve(status === undefined ? null : Number(status));
    });
  });
}

/** The peak resident memory (VmHWM, bytes) of a process; 0 once it is gone. */
async function peakOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${String(pid)}/status`, 'utf8').catch(() => '');
  return Number(/^VmHWM:\s*(\d+) kB/m.exec(status)?.[1] ?? 0) * 1024;
}

/** Pids of the children of `pid` (any of its threads may have started them). */
async function childrenOf(pid: number): Promise<number[]> {
  const tasks = await readdir(`/proc/${String(pid)}/task`).catch(() => []);
  const lists = await Promise.all(tasks.map((task) => readFile(`/proc/${String(pid)}/task/${task}/children`, 'utf8').catch(() => '')));
  return [...new Set(lists.join(' ').split(/\s+/).filter(Boolean).map(Number))];
}

export interface Monitor {
  /** Stops sampling; the slowest /healthz and /readyz answers, every status seen, and the peaks. */
  stop(): Promise<{ slowestMs: number; statuses: number[]; serverPeak: number; childPeaks: Map<number, number> }>;
}

/** Samples /healthz and /readyz (from a third address) and the peak memory of `pid` and its children every `everyMs`. */
function monitor(url: string, pid: number, everyMs = 100): Monitor {
  const stopped = new AbortController();
  let slowestMs = 0;
  const statuses: number[] = [];
  const childPeaks = new Map<number, number>();
  const memory = async () => {
    for (const child of await childrenOf(pid)) childPeaks.set(child, Math.max(childPeaks.get(child) ?? 0, await peakOf(child)));
  };
  const loop = (async () => {
    while (!stopped.signal.aborted) {
      const answers = await Promise.all([send(url, MONITOR, '/healthz'), send(url, MONITOR, '/readyz'), memory()]);
      for (const answer of answers.slice(0, 2) as Answer[]) {
        statuses.push(answer.status);
        slowestMs = Math.max(slowestMs, answer.ms);
      }
      await sleep(everyMs);
    }
  })();
  return {
    async stop() {
      stopped.abort();
      await loop;
      await memory();
      return { slowestMs, statuses, serverPeak: await peakOf(pid), childPeaks };
    },
  };
}

export interface Ordinary { id: string; url: string; data: Buffer }

/** Uploads distinct small photos from another address, one after another, until `until` settles. */
async function ordinaryUploads(url: string, until: Promise<unknown>): Promise<{ statuses: number[]; accepted: Ordinary[] }> {
  const done = new AbortController();
  void until.finally(() => { done.abort(); });
  const statuses: number[] = [];
  const accepted: Ordinary[] = [];
  for (let i = 0; !done.signal.aborted; i++) {
    const data = await photo(64 + i, 48, i % 2 ? 'png' : 'jpeg');
    const answer = await send(url, ORDINARY, '/api/images', data);
    statuses.push(answer.status);
    if (answer.status === 201) {
      const { id, url: imageUrl } = JSON.parse(answer.body.toString()) as { id: string; url: string };
      accepted.push({ id, url: imageUrl, data });
    }
  }
  return { statuses, accepted };
}

export interface RoundResult { outcomes: Outcome[]; halfSent: (number | null)[] }

/** One round: every hostile upload at once from one address, with a stalled and an abandoned half-sent upload. */
async function round(url: string, uploads: readonly HostileUpload[], half: Buffer): Promise<RoundResult> {
  const [outcomes, stalled, abandoned] = await Promise.all([
    Promise.all(uploads.map((upload) => insist(url, upload))),
    halfSent(url, half),
    halfSent(url, half, 200),
  ]);
  return { outcomes, halfSent: [stalled, abandoned] };
}

export interface Storm {
  rounds: RoundResult[];
  ordinary: { statuses: number[]; accepted: Ordinary[] };
  seen: Awaited<ReturnType<Monitor['stop']>>;
}

/** `rounds` rounds of `uploads` against the server at `url` (process `pid`), ordinary uploads and the monitor meanwhile. */
export async function storm(url: string, pid: number, rounds: number, uploads: readonly HostileUpload[], half: Buffer): Promise<Storm> {
  const watch = monitor(url, pid);
  const hostile = (async () => {
    const results: RoundResult[] = [];
    for (let i = 0; i < rounds; i++) results.push(await round(url, uploads, half));
    return results;
  })();
  const [results, ordinary] = await Promise.all([hostile, ordinaryUploads(url, hostile)]);
  return { rounds: results, ordinary, seen: await watch.stop() };
}
