// What a format walker decides: which byte ranges of the upload to keep, in order, and which new
// bytes to put between them. Pixels are always kept as ranges of the original file, never decoded.
import type { Source } from './source.js';

export type Piece = { start: number; end: number } | Buffer;

export class Plan {
  readonly pieces: Piece[] = [];
  /** Whether the result differs from the upload: only then is a new file written. */
  changed = false;

  constructor(readonly source: Source) {}

  keep(start: number, end: number): void {
    const last = Math.min(end, this.source.size);
    if (last > start) this.pieces.push({ start, end: last });
  }

  /** Keeps everything from `start` on: where a walker cannot parse further, it removes nothing. */
  keepRest(start: number): void {
    this.keep(start, this.source.size);
  }

  drop(): void {
    this.changed = true;
  }

  insert(data: Buffer): void {
    this.pieces.push(data);
    this.changed = true;
  }

  /** Bytes dropped after the format's own end marker (appended archives, scripts, secondary images). */
  dropTrailing(end: number): void {
    if (end < this.source.size) this.changed = true;
  }

  get length(): number {
    return this.pieces.reduce((sum, piece) => sum + (Buffer.isBuffer(piece) ? piece.length : piece.end - piece.start), 0);
  }
}
