// Random access to a spooled upload through a small window, so the format walkers can read
// headers, lengths and sub-blocks anywhere in a large file without holding it in memory.
// Reading what the window holds is synchronous: a walker writes
// `if (!source.holds(pos, n)) await source.load(pos, n)` and then reads numbers in place, so
// walking a file of millions of tiny blocks waits only when the window moves, never per block.
import type { FileHandle } from 'node:fs/promises';

/** The least read from the file at once, and the most `Output.copy` asks for. */
export const WINDOW = 64 * 1024;

const NOTHING = Buffer.alloc(0);

export class Source {
  private window = NOTHING;
  private windowStart = 0;

  constructor(private readonly file: FileHandle, readonly size: number) {}

  /** Whether the window holds `length` bytes from `pos` (or all there are, where the file ends first). */
  holds(pos: number, length: number): boolean {
    const end = Math.min(pos + length, this.size);
    return pos >= end || (pos >= this.windowStart && end <= this.windowStart + this.window.length);
  }

  /** Moves the window to hold `length` bytes from `pos`. */
  async load(pos: number, length: number): Promise<void> {
    const buffer = Buffer.alloc(Math.max(0, Math.min(Math.max(length, WINDOW), this.size - pos)));
    const { bytesRead } = await this.file.read(buffer, 0, buffer.length, pos);
    this.window = buffer.subarray(0, bytesRead);
    this.windowStart = pos;
  }

  /** The byte at `pos`, when the window holds it; undefined past the end of the file. */
  u8(pos: number): number | undefined {
    return this.window[pos - this.windowStart];
  }

  /** The little-endian 32-bit number at `pos`, which the window holds. */
  u32le(pos: number): number {
    return this.window.readUInt32LE(pos - this.windowStart);
  }

  /** `length` bytes from `pos` (fewer where the file ends), when the window holds them. */
  peek(pos: number, length: number): Buffer | undefined {
    if (!this.holds(pos, length)) return undefined;
    return this.window.subarray(Math.max(0, pos - this.windowStart), Math.min(pos + length, this.size) - this.windowStart);
  }

  /** `length` bytes from `pos`, or fewer where the file ends first. */
  async bytes(pos: number, length: number): Promise<Buffer> {
    if (!this.holds(pos, length)) await this.load(pos, length);
    return this.peek(pos, length) ?? NOTHING;
  }

  /** Copies bytes `start` to `end` into `target` at `at`, if the window holds them. */
  copyHeld(target: Buffer, at: number, start: number, end: number): boolean {
    if (!this.holds(start, end - start)) return false;
    this.window.copy(target, at, start - this.windowStart, end - this.windowStart);
    return true;
  }
}
