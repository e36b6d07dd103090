// Makes thumbnails in a child process of lower CPU priority (a higher nice value), so that when
// uploads keep every core busy the kernel still runs the serving process first: image work
// waits, requests do not. The child is also where decoding is bounded for good: one that takes
// longer than its deadline, or a process that grows past its memory limit, is killed (SIGKILL
// stops a decoder that never returns to libvips), failing only the thumbnails it was making;
// the next thumbnail starts a new process. A crash of the image library there fails the uploads
// in flight (as files it cannot read), never the server.
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { getPriority, setPriority } from 'node:os';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ImageTooComplex, NotAnImage, OverDecodeBudget } from '../errors.js';
import type { DecodeLimits } from './probe.js';
import type { Rendition, RenditionSpec } from './rendition.js';

export type MakeRendition = (path: string, spec: RenditionSpec, limits: DecodeLimits) => Promise<Rendition>;

export interface ThumbnailRequest { id: number; path: string; spec: RenditionSpec; limits: DecodeLimits }
export type ThumbnailAnswer
  = | { id: number; thumbnail: Rendition }
    | { id: number; refused: 'notAnImage' | 'tooComplex' }
    | { id: number; error: string };

// The same extension as this module: .ts when run from the sources (tsx), .js once built.
const processEntry = fileURLToPath(new URL(`./thumbnail-process${extname(fileURLToPath(import.meta.url))}`, import.meta.url));

/** Past its deadline, a thumbnail has this long to give up by itself before its process is killed. */
const killMarginMs = 2000;
/** How often the child's memory is looked at: decoders allocate in steps of frames or rows. */
const memoryCheckMs = 100;
/** The child's own footprint (Node, sharp, libvips, a thumbnail being encoded) besides its decoders. */
const childBaseBytes = 256 * 1024 * 1024;

/**
 * The child's environment: a thread pool sized for its thumbnails, and (unless the user chose
 * otherwise) two glibc malloc arenas. libvips decodes on pool threads, and glibc gives each
 * thread an arena of its own that keeps what it freed: with two, the child's peak resident
 * memory under 32 large uploads fell by about 15 MB a process, at the same upload rate
 * (docs/performance.md). Other C libraries ignore the variable.
 */
function childEnv(concurrency: number): NodeJS.ProcessEnv {
  return { MALLOC_ARENA_MAX: '2', ...process.env, UV_THREADPOOL_SIZE: String(concurrency + 2) };
}

interface Job {
  request: ThumbnailRequest;
  resolve: (thumbnail: Rendition) => void;
  reject: (err: Error) => void;
  child: ChildProcess;
  timer: NodeJS.Timeout;
  /** Sent again after its process was killed for another thumbnail's sake. */
  retried: boolean;
}

/** Why the thumbnailer killed a child: the id of the thumbnail past its deadline, or memory. */
type KillReason = number | 'memory';

/** Why a child ended: killed by us, or an error of its own (it could not be started, say). */
type EndReason = KillReason | Error;

export class Thumbnailer {
  private child: ChildProcess | null = null;
  private readonly jobs = new Map<number, Job>();
  private readonly killed = new WeakMap<ChildProcess, EndReason>();
  private lastId = 0;
  /** Thumbnails to try again after a memory kill, one at a time, so the one that grew is alone. */
  private readonly retries: Omit<Job, 'child' | 'timer'>[] = [];
  private retrying = false;
  /** Resident bytes past which the child is killed. */
  readonly memoryLimit: number;

  /**
   * `concurrency`: thumbnails the child makes at once (its thread pool is sized for them);
   * `decodeBudget`: what each may hold (decode-budget.ts), so the child may hold that many.
   */
  constructor(private readonly nice: number, private readonly concurrency: number, decodeBudget: number) {
    this.memoryLimit = childBaseBytes + concurrency * decodeBudget;
  }

  readonly make: MakeRendition = (path, spec, limits) => new Promise((resolve, reject) => {
    this.send({ request: { id: ++this.lastId, path, spec, limits }, resolve, reject, retried: false });
  });

  async close(): Promise<void> {
    const child = this.child;
    if (!child) return;
    const exited = once(child, 'exit');
    child.disconnect();
    await exited;
  }

  /** Sends a thumbnail to the child, with a deadline from now: one tried again lost its first to another's. */
  private send(job: Omit<Job, 'child' | 'timer'>): void {
    const child = this.child ?? this.start();
    const { request } = job;
    const timer = setTimeout(() => { this.kill(child, request.id); }, request.limits.timeoutSeconds * 1000 + killMarginMs);
    this.jobs.set(request.id, { ...job, child, timer });
    child.send(request);
  }

  private start(): ChildProcess {
    const child = fork(processEntry, [], {
      // Buffers cross as bytes, not as JSON arrays of numbers.
      serialization: 'advanced',
      env: childEnv(this.concurrency),
    });
    // Relative to the server's own priority: lowering it needs no privilege.
    if (child.pid !== undefined) setPriority(child.pid, Math.min(19, getPriority() + this.nice));
    // Linux only: elsewhere there is no /proc to read the child's memory from.
    const watch = process.platform === 'linux' ? setInterval(() => { void this.checkMemory(child); }, memoryCheckMs).unref() : undefined;
    child.on('message', (answer: ThumbnailAnswer) => { this.answer(answer); });
    // A child that could not start, or died (even while a request was being sent to it).
    child.on('error', (err) => {
      if (!this.killed.has(child)) this.killed.set(child, err);
      this.lost(child);
    });
    child.on('exit', () => { clearInterval(watch); this.lost(child); });
    this.child = child;
    return child;
  }

  /** Kills the child once its resident memory is past the limit. */
  private async checkMemory(child: ChildProcess): Promise<void> {
    if (child.pid === undefined || ![...this.jobs.values()].some((job) => job.child === child)) return;
    // Unreadable once the child has exited: then there is nothing left to watch.
    const status = await readFile(`/proc/${String(child.pid)}/status`, 'utf8').catch(() => '');
    const kib = Number(/^VmRSS:\s*(\d+) kB/m.exec(status)?.[1] ?? 0);
    if (kib * 1024 > this.memoryLimit) this.kill(child, 'memory');
  }

  private kill(child: ChildProcess, reason: KillReason): void {
    if (this.killed.has(child)) return;
    this.killed.set(child, reason);
    if (this.child === child) this.child = null;
    child.kill('SIGKILL');
  }

  /**
   * Settles the thumbnails the child had not answered. Past a deadline, that one is refused as too
   * complex; past the memory limit, nobody knows which one grew, so each is tried once more, one
   * at a time, and one that was already is refused as over budget. The others are tried once
   * more in a new process, with a deadline of their own from then. A process that could not be started (no memory, no descriptors) fails them with
   * its error, a resource error the client may retry; one that crashed, as files the image
   * library could not read.
   */
  private lost(child: ChildProcess): void {
    if (this.child === child) this.child = null;
    const reason = this.killed.get(child);
    for (const [id, job] of this.jobs) {
      if (job.child !== child) continue;
      this.jobs.delete(id);
      clearTimeout(job.timer);
      if (reason instanceof Error) job.reject(reason);
      else if (reason === id) job.reject(new ImageTooComplex(job.request.limits.timeoutSeconds));
      else if (reason === 'memory' && !job.retried) this.retries.push({ ...job, retried: true });
      else if (reason === 'memory') job.reject(new OverDecodeBudget(job.request.limits.decodeBudget));
      else if (reason !== undefined && !job.retried) this.send({ ...job, retried: true });
      else job.reject(new NotAnImage());
    }
    this.retryNext();
  }

  private retryNext(): void {
    const job = this.retries.shift();
    if (this.retrying || job === undefined) return;
    this.retrying = true;
    const settled = (): void => { this.retrying = false; this.retryNext(); };
    this.send({
      ...job,
      resolve: (thumbnail) => { settled(); job.resolve(thumbnail); },
      reject: (err) => { settled(); job.reject(err); },
    });
  }

  private answer(answer: ThumbnailAnswer): void {
    const job = this.jobs.get(answer.id);
    if (!job) return;
    this.jobs.delete(answer.id);
    clearTimeout(job.timer);
    if ('thumbnail' in answer) {
      const { data } = answer.thumbnail;
      // Structured clone hands a Buffer over as a plain Uint8Array.
      job.resolve({ ...answer.thumbnail, data: Buffer.from(data.buffer, data.byteOffset, data.byteLength) });
    } else if ('refused' in answer) {
      job.reject(answer.refused === 'tooComplex' ? new ImageTooComplex(job.request.limits.timeoutSeconds) : new NotAnImage());
    } else {
      job.reject(new Error(`thumbnail process: ${answer.error}`));
    }
  }
}
