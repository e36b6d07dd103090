// What a format walker decides, as it decides it: which byte ranges of the upload to keep, in
// order, and which new bytes to put between them. Pixels are always kept as ranges of the
// original file, never decoded. Nothing is held per block: a kept range that follows the last one
// extends it, and a range is only written out once the next one does not follow it. No file is
// written until the walker first drops or inserts something: until then the result is one range,
// the start of the upload, and an upload with nothing to remove is left untouched.
import { Output, type Stripped } from './output.js';
import type { Source } from './source.js';

export class Plan {
  /** Whether the result differs from the upload: only then is a new file written. */
  changed = false;
  /** The size of the result so far. */
  length = 0;
  /** The last kept range, not yet written; -1 for none. */
  private keptStart = -1;
  private keptEnd = -1;
  private output: Output | null = null;

  /** Writes the result to `target` once it differs; without a target, only measures it. */
  constructor(readonly source: Source, private readonly target?: string) {}

  /**
   * Keeps bytes `start` to `end`. Returns a promise only when the walker must wait for a write:
   * walkers call `await` on it only then, so a run of kept blocks costs no wait per block.
   */
  keep(start: number, end: number): Promise<void> | undefined {
    const last = Math.min(end, this.source.size);
    if (last <= start) return undefined;
    this.length += last - start;
    if (this.keptEnd === start) {
      this.keptEnd = last;
      return undefined;
    }
    // Bytes before this range that are not in the result: something was left out.
    if (this.keptEnd !== -1 || start !== 0) this.changed = true;
    const writing = this.write(this.keptStart, this.keptEnd);
    this.keptStart = start;
    this.keptEnd = last;
    return writing;
  }

  /** Keeps everything from `start` on: where a walker cannot parse further, it removes nothing. */
  async keepRest(start: number): Promise<void> {
    await this.keep(start, this.source.size);
  }

  drop(): void {
    this.changed = true;
  }

  async insert(data: Buffer): Promise<void> {
    this.changed = true;
    this.length += data.length;
    await this.write(this.keptStart, this.keptEnd);
    this.keptStart = this.keptEnd = -1;
    if (this.target !== undefined) await (this.output ??= await Output.create(this.target)).append(data);
  }

  /** Bytes dropped after the format's own end marker (appended archives, scripts, secondary images). */
  dropTrailing(end: number): void {
    if (end < this.source.size) this.changed = true;
  }

  /** The new file's SHA-256 and size, or null when nothing changed and no file was written. */
  async finish(): Promise<Stripped | null> {
    if (!this.changed || this.target === undefined) return null;
    await this.write(this.keptStart, this.keptEnd);
    this.output ??= await Output.create(this.target);
    return this.output.close();
  }

  /** Closes the new file after a failure; the caller removes it. */
  async abandon(): Promise<void> {
    await this.output?.abandon();
  }

  /** Writes bytes `start` to `end` out: at once when the source's window holds them, else waiting. */
  private write(start: number, end: number): Promise<void> | undefined {
    if (end <= start || this.target === undefined || this.output?.copyHeld(this.source, start, end) === true) return undefined;
    return this.writeRead(this.target, start, end);
  }

  private async writeRead(target: string, start: number, end: number): Promise<void> {
    this.output ??= await Output.create(target);
    await this.output.copy(this.source, start, end);
  }
}
