// Random access to a spooled upload through a small window, so the format walkers can read
// headers, lengths and sub-blocks anywhere in a large file without holding it in memory.
// A walker reads `source.peek(pos, n) ?? await source.bytes(pos, n)`: only a read that goes to
// the file waits, so walking a file of millions of tiny blocks costs no promise per block.
import type { FileHandle } from 'node:fs/promises';

/** The most read from the file at once, and so the most a `bytes` call should ask for. */
export const WINDOW = 64 * 1024;

const NOTHING = Buffer.alloc(0);

export class Source {
  private window = NOTHING;
  private windowStart = 0;

  constructor(private readonly file: FileHandle, readonly size: number) {}

  /**
   * `length` bytes from `pos` (fewer where the file ends, none past it) when the window holds
   * them; undefined when they must be read with `bytes`.
   */
  peek(pos: number, length: number): Buffer | undefined {
    const end = Math.min(pos + length, this.size);
    if (pos >= end) return NOTHING;
    if (pos < this.windowStart || end > this.windowStart + this.window.length) return undefined;
    return this.window.subarray(pos - this.windowStart, end - this.windowStart);
  }

  /** `length` bytes from `pos`, or fewer where the file ends first. */
  async bytes(pos: number, length: number): Promise<Buffer> {
    const held = this.peek(pos, length);
    if (held !== undefined) return held;
    const end = Math.min(pos + length, this.size);
    await this.load(pos, end - pos);
    return this.window.subarray(0, end - pos);
  }

  private async load(pos: number, length: number): Promise<void> {
    const buffer = Buffer.alloc(Math.min(Math.max(length, WINDOW), this.size - pos));
    const { bytesRead } = await this.file.read(buffer, 0, buffer.length, pos);
    this.window = buffer.subarray(0, bytesRead);
    this.windowStart = pos;
  }
}
