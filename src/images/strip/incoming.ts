// The bytes of an upload as they arrive, seen by a format walker that strips them in passing.
// A walker is a generator: it reads the buffered bytes, passes or skips them, and yields when it
// needs more than have come, so it reads top to bottom like a parser of a whole file while the
// upload streams through it. Only what a walker is looking at is held: a marker segment of at
// most 64 KiB, a chunk header, or the EXIF block it reads the orientation from.

/** A walker's run: each yield waits for the next chunk of the upload. */
export type Walk = Generator<void, void, void>;

export class Incoming {
  private buffered: Buffer = Buffer.alloc(0);
  private readonly passed: Buffer[] = [];
  /** Set once the upload has no more bytes: a walker's waits then return at once. */
  ended = false;

  feed(chunk: Buffer): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
  }

  /**
   * What the walker passed on since the last call, as one buffer (none if nothing): the stream
   * sends it on once per chunk received, however many pieces the walker cut it into.
   */
  output(): Buffer | undefined {
    if (this.passed.length === 0) return undefined;
    const out = this.passed.length === 1 ? this.passed[0] : Buffer.concat(this.passed);
    this.passed.length = 0;
    return out;
  }

  get available(): number {
    return this.buffered.length;
  }

  /** Waits until `length` bytes are buffered, or the upload ends with fewer. */
  *need(length: number): Walk {
    while (this.buffered.length < length && !this.ended) yield;
  }

  /** Up to `length` buffered bytes, not consumed. */
  peek(length: number): Buffer {
    return this.buffered.subarray(0, length);
  }

  /** Where `byte` is among the buffered bytes from `from` on, or -1. */
  indexOf(byte: number, from: number): number {
    return this.buffered.indexOf(byte, from);
  }

  /** The buffered byte at `pos`, or undefined. */
  at(pos: number): number | undefined {
    return this.buffered[pos];
  }

  /** Sends on `length` buffered bytes. */
  pass(length: number): void {
    if (length > 0) this.passed.push(this.buffered.subarray(0, length));
    this.buffered = this.buffered.subarray(length);
  }

  /** Drops `length` buffered bytes. */
  discard(length: number): void {
    this.buffered = this.buffered.subarray(length);
  }

  /** Sends new bytes that were not in the upload. */
  insert(data: Buffer): void {
    this.passed.push(data);
  }

  /** Sends on the next `length` bytes, however many chunks they come in; fewer if the upload ends first. */
  passOn(length: number): Walk {
    return this.advance(length, (now) => { this.pass(now); });
  }

  /** Drops the next `length` bytes, however many chunks they come in. */
  skipOver(length: number): Walk {
    return this.advance(length, (now) => { this.discard(now); });
  }

  private *advance(length: number, take: (now: number) => void): Walk {
    for (let left = length; left > 0;) {
      yield* this.need(1);
      if (this.buffered.length === 0) return;
      const now = Math.min(left, this.buffered.length);
      take(now);
      left -= now;
    }
  }

  /** Sends on everything to the end: where a walker cannot parse further, it removes nothing. */
  *passRest(): Walk {
    yield* this.passOn(Infinity);
  }

  /** Drops everything to the end (what follows a format's own end marker). */
  *dropRest(): Walk {
    yield* this.skipOver(Infinity);
  }
}
