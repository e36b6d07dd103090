// Random access to a spooled upload through a small window, so the format walkers can read
// headers, lengths and sub-blocks anywhere in a large file without holding it in memory.
import type { FileHandle } from 'node:fs/promises';

const WINDOW = 64 * 1024;

export class Source {
  private window = Buffer.alloc(0);
  private windowStart = 0;

  constructor(private readonly file: FileHandle, readonly size: number) {}

  /** `length` bytes from `pos`, or fewer where the file ends first. */
  async bytes(pos: number, length: number): Promise<Buffer> {
    if (pos >= this.size) return Buffer.alloc(0);
    const end = Math.min(pos + length, this.size);
    if (pos < this.windowStart || end > this.windowStart + this.window.length) await this.load(pos, end - pos);
    return this.window.subarray(pos - this.windowStart, end - this.windowStart);
  }

  /** The byte at `pos`, or undefined past the end. */
  async u8(pos: number): Promise<number | undefined> {
    return (await this.bytes(pos, 1))[0];
  }

  private async load(pos: number, length: number): Promise<void> {
    const buffer = Buffer.alloc(Math.min(Math.max(length, WINDOW), this.size - pos));
    const { bytesRead } = await this.file.read(buffer, 0, buffer.length, pos);
    this.window = buffer.subarray(0, bytesRead);
    this.windowStart = pos;
  }
}
