// The load the benchmark puts on a server: uploads in a closed loop, GETs at saturation through
// autocannon, and GETs at a steady rate timed one by one. Any answer that is not a success
// fails the run: a benchmark of errors would measure nothing. Uploads are multipart/form-data
// with a `file` field, as a browser's form and `curl -F` send them and as the original
// application took them, so imghost and that reference are driven alike.
import autocannon from 'autocannon';
import { randomBytes } from 'node:crypto';
import { fork } from 'node:child_process';
import { Agent, request } from 'node:http';
import { extname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { UploadLoad } from './upload-process.js';

export interface Uploaded { id: string; thumbBytes: number }

export interface UploadRun { uploads: Uploaded[]; seconds: number; perSecond: number }

/**
 * POSTs `count` raw image bodies to /api/images, `concurrency` at a time, each body made by
 * `body()` when its turn comes (so each can be a different file).
 */
export async function uploadMany(url: string, body: () => Buffer, mime: string, count: number, concurrency: number): Promise<UploadRun> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const uploads: Uploaded[] = [];
  let started = 0;
  const began = performance.now();
  const loop = async (): Promise<void> => {
    while (started < count) {
      started++;
      const res = await upload(agent, url, body(), mime);
      const json = JSON.parse(res.text) as { id: string; thumb: { bytes: number } };
      uploads.push({ id: json.id, thumbBytes: json.thumb.bytes });
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, count) }, loop));
  } finally {
    agent.destroy();
  }
  const seconds = (performance.now() - began) / 1000;
  return { uploads, seconds, perSecond: count / seconds };
}

/** Keeps `concurrency` uploads running until `stop` resolves; returns how many finished. */
export async function uploadUntil(stop: Promise<void>, url: string, body: () => Buffer, mime: string, concurrency: number): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  let stopped = false;
  let done = 0;
  void stop.then(() => { stopped = true; });
  const loop = async (): Promise<void> => {
    while (!stopped) {
      await upload(agent, url, body(), mime);
      done++;
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, loop));
  } finally {
    agent.destroy();
  }
  return done;
}

// The same extension as this module: .ts when run from the sources (tsx, which fork passes on).
const uploadProcess = fileURLToPath(new URL(`./upload-process${extname(fileURLToPath(import.meta.url))}`, import.meta.url));

/**
 * Keeps `load.concurrency` uploads running from another process until the returned stop() is
 * called, which resolves to how many finished (and rejects if one failed).
 */
export function uploadInBackground(load: UploadLoad): { stop(): Promise<number> } {
  const child = fork(uploadProcess, [], { serialization: 'advanced' });
  const finished = new Promise<number>((resolve, reject) => {
    child.once('message', (answer: { done?: number; error?: string }) => {
      if (answer.done === undefined) reject(new Error(`background uploads: ${answer.error ?? 'no answer'}`));
      else resolve(answer.done);
    });
    child.once('exit', (code) => { reject(new Error(`background uploads exited with ${String(code)}`)); });
  });
  finished.catch(() => undefined); // reported by stop(), not as an unhandled rejection before it
  child.send(load);
  return {
    stop() {
      child.send('stop');
      return finished;
    },
  };
}

export interface Saturation {
  requestsPerSecond: number;
  bytesPerSecond: number;
  p50Ms: number;
  p99Ms: number;
}

/**
 * GETs `paths` round-robin on `connections` keep-alive connections for `seconds`, as fast as the
 * server answers (autocannon). Latencies are autocannon's, whole milliseconds.
 */
export async function saturate(url: string, paths: readonly string[], connections: number, seconds: number,
  headers: Record<string, string> = {}): Promise<Saturation> {
  const result = await autocannon({
    url,
    connections,
    duration: seconds,
    requests: paths.map((path) => ({ method: 'GET', path, headers })),
  });
  if (result.errors > 0 || result.timeouts > 0 || result.non2xx > 0) {
    throw new Error(`GET load on ${url}: ${String(result.errors)} errors, ${String(result.timeouts)} timeouts, ${String(result.non2xx)} non-2xx answers`);
  }
  return {
    requestsPerSecond: result.requests.average,
    bytesPerSecond: result.throughput.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
  };
}

/**
 * GETs `paths` round-robin at a steady `rate` per second for `seconds` on a few keep-alive
 * connections, and returns each request's latency in milliseconds (microsecond resolution):
 * the latency a visitor sees when the server is not saturated by the GETs themselves.
 */
export async function steadyLatencies(url: string, paths: readonly string[], rate: number, seconds: number): Promise<number[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  const latencies: number[] = [];
  const pending: Promise<void>[] = [];
  const total = Math.round(rate * seconds);
  const began = performance.now();
  try {
    for (let i = 0; i < total; i++) {
      const due = began + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 1) await sleep(wait);
      const path = paths[i % paths.length] ?? '/';
      pending.push((async () => {
        const sent = performance.now();
        const res = await send(agent, `${url}${path}`, 'GET');
        if (res.status !== 200) throw new Error(`GET ${path} answered ${String(res.status)}`);
        latencies.push(performance.now() - sent);
      })());
    }
    await Promise.all(pending);
  } finally {
    agent.destroy();
  }
  return latencies;
}

interface Answer { status: number; text: string }

/** POSTs `file` to /api/images as a form's `file` field; fails unless it is answered 201. */
async function upload(agent: Agent, url: string, file: Buffer, mime: string): Promise<Answer> {
  const boundary = `bench${randomBytes(12).toString('hex')}`;
  const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="upload"\r\nContent-Type: ${mime}\r\n\r\n`);
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const res = await send(agent, `${url}/api/images`, 'POST', { 'content-type': `multipart/form-data; boundary=${boundary}` }, [head, file, tail]);
  if (res.status !== 201) throw new Error(`upload answered ${String(res.status)}: ${res.text}`);
  return res;
}

function send(agent: Agent, url: string, method: string, headers: Record<string, string> = {}, body: readonly Buffer[] = []): Promise<Answer> {
  const length = body.reduce((sum, part) => sum + part.length, 0);
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent, headers: body.length > 0 ? { ...headers, 'content-length': String(length) } : headers }, (res) => {
      const chunks: Buffer[] = [];
      // Only small JSON answers are kept as text; image bytes are counted and dropped.
      const keep = !(res.headers['content-type'] ?? '').startsWith('image/');
      res.on('data', (chunk: Buffer) => { if (keep) chunks.push(chunk); });
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }); });
      res.on('error', reject);
    });
    req.on('error', reject);
    // The parts are written as they are: no copy of a large file into one body.
    for (const part of body) req.write(part);
    req.end();
  });
}
