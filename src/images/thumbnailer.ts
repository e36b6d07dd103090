// Makes thumbnails in a child process of lower CPU priority (a higher nice value), so that when
// uploads keep every core busy the kernel still runs the serving process first: image work
// waits, requests do not. A crash of the image library there fails the uploads in flight (as
// files it cannot read), never the server; the next thumbnail starts a new process.
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { getPriority, setPriority } from 'node:os';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NotAnImage } from '../errors.js';
import type { Thumbnail, ThumbSpec } from './thumbnail.js';

export type MakeThumbnail = (path: string, spec: ThumbSpec, maxPixels: number) => Promise<Thumbnail>;

export interface ThumbnailRequest { id: number; path: string; spec: ThumbSpec; maxPixels: number }
export type ThumbnailAnswer =
  | { id: number; thumbnail: Thumbnail }
  | { id: number; notAnImage: true }
  | { id: number; error: string };

// The same extension as this module: .ts when run from the sources (tsx), .js once built.
const processEntry = fileURLToPath(new URL(`./thumbnail-process${extname(fileURLToPath(import.meta.url))}`, import.meta.url));

interface Waiting { child: ChildProcess; resolve: (thumbnail: Thumbnail) => void; reject: (err: Error) => void }

export class Thumbnailer {
  private child: ChildProcess | null = null;
  private readonly waiting = new Map<number, Waiting>();
  private lastId = 0;

  /** `concurrency`: thumbnails the child makes at once (its thread pool is sized for them). */
  constructor(private readonly nice: number, private readonly concurrency: number) {}

  readonly make: MakeThumbnail = (path, spec, maxPixels) => {
    const child = this.child ?? this.start();
    const id = ++this.lastId;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { child, resolve, reject });
      child.send({ id, path, spec, maxPixels } satisfies ThumbnailRequest);
    });
  };

  async close(): Promise<void> {
    const child = this.child;
    if (!child) return;
    const exited = once(child, 'exit');
    child.disconnect();
    await exited;
  }

  private start(): ChildProcess {
    const child = fork(processEntry, [], {
      // Buffers cross as bytes, not as JSON arrays of numbers.
      serialization: 'advanced',
      env: { ...process.env, UV_THREADPOOL_SIZE: String(this.concurrency + 2) },
    });
    // Relative to the server's own priority: lowering it needs no privilege.
    if (child.pid !== undefined) setPriority(child.pid, Math.min(19, getPriority() + this.nice));
    child.on('message', (answer: ThumbnailAnswer) => { this.answer(answer); });
    // A child that could not start, or died (even while a request was being sent to it).
    child.on('error', () => { this.lost(child); });
    child.on('exit', () => { this.lost(child); });
    this.child = child;
    return child;
  }

  /** The thumbnails the child had not answered are refused as files it could not read. */
  private lost(child: ChildProcess): void {
    if (this.child === child) this.child = null;
    for (const [id, waiting] of this.waiting) {
      if (waiting.child !== child) continue;
      this.waiting.delete(id);
      waiting.reject(new NotAnImage());
    }
  }

  private answer(answer: ThumbnailAnswer): void {
    const waiting = this.waiting.get(answer.id);
    if (!waiting) return;
    this.waiting.delete(answer.id);
    if ('thumbnail' in answer) {
      const { data } = answer.thumbnail;
      // Structured clone hands a Buffer over as a plain Uint8Array.
      waiting.resolve({ ...answer.thumbnail, data: Buffer.from(data.buffer, data.byteOffset, data.byteLength) });
    } else if ('notAnImage' in answer) {
      waiting.reject(new NotAnImage());
    } else {
      waiting.reject(new Error(`thumbnail process: ${answer.error}`));
    }
  }
}
