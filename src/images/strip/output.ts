// The stripped file as it is written: bytes are gathered into a buffer of 1 MiB, then hashed and
// written a buffer at a time, however many pieces a walker cuts the file into.
import { createHash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { WINDOW, type Source } from './source.js';

const BATCH = 1024 * 1024;

export interface Stripped { hash: string; bytes: number }

export class Output {
  private readonly batch = Buffer.allocUnsafe(BATCH);
  private filled = 0;
  private bytes = 0;
  private readonly hash = createHash('sha256');

  private constructor(private readonly file: FileHandle) {}

  static async create(path: string): Promise<Output> {
    return new Output(await open(path, 'wx'));
  }

  async append(data: Buffer): Promise<void> {
    this.bytes += data.length;
    for (let at = 0; at < data.length;) {
      const copied = data.copy(this.batch, this.filled, at);
      this.filled += copied;
      at += copied;
      if (this.filled === BATCH) await this.flush();
    }
  }

  /** Appends bytes `start` to `end` of `source` at once, if its window holds them and they fit the buffer. */
  copyHeld(source: Source, start: number, end: number): boolean {
    if (end - start > BATCH - this.filled || !source.copyHeld(this.batch, this.filled, start, end)) return false;
    this.filled += end - start;
    this.bytes += end - start;
    return true;
  }

  /** Appends bytes `start` to `end` of `source`, read a window at a time. */
  async copy(source: Source, start: number, end: number): Promise<void> {
    for (let pos = start; pos < end;) {
      const length = Math.min(end - pos, WINDOW);
      const data = source.peek(pos, length) ?? (await source.bytes(pos, length));
      if (data.length === 0) throw new Error(`the spooled file ends at ${String(pos)}, before ${String(end)}`);
      await this.append(data);
      pos += data.length;
    }
  }

  /** Writes what is left, closes the file, and tells what it holds. */
  async close(): Promise<Stripped> {
    await this.flush();
    await this.file.close();
    return { hash: this.hash.digest('hex'), bytes: this.bytes };
  }

  /** Closes the file after a failure, leaving its removal to the caller. */
  async abandon(): Promise<void> {
    await this.file.close().catch(() => undefined);
  }

  private async flush(): Promise<void> {
    if (this.filled === 0) return;
    const data = this.batch.subarray(0, this.filled);
    this.hash.update(data);
    await this.file.writeFile(data);
    this.filled = 0;
  }
}
