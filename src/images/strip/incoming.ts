// The bytes of an upload as they arrive, seen by a format walker that strips them in passing.
// A walker is a generator: it reads the buffered bytes, passes or skips them, and yields when it
// needs more than have come, so it reads top to bottom like a parser of a whole file while the
// upload streams through it. Only what a walker is looking at is held: a marker segment of at
// most 64 KiB, a chunk header, or the EXIF block it reads the orientation from. Headers are read
// in place and a run of bytes passed on goes on as one piece, so a file of millions of tiny
// segments or chunks costs no object for each.

/** A walker's run: each yield waits for the next chunk of the upload. */
export type Walk = Generator<void, void, void>;

/** Pieces passed on (runs between dropped bytes) beyond which they are joined into one. */
const MAX_PIECES = 256;

export class Incoming {
  private buffered: Buffer = Buffer.alloc(0);
  /** Bytes of `buffered` already passed on or dropped. */
  private offset = 0;
  /** The run of `buffered` passed on since the last byte dropped or inserted, not yet in `passed`. */
  private runStart = 0;
  private runEnd = 0;
  private readonly passed: Buffer[] = [];
  /** How many of `passed` are already pieces joined together. */
  private joined = 0;
  /** Set once the upload has no more bytes: a walker's waits then return at once. */
  ended = false;

  feed(chunk: Buffer): void {
    this.settle();
    const rest = this.buffered.subarray(this.offset);
    this.buffered = rest.length === 0 ? chunk : Buffer.concat([rest, chunk]);
    this.offset = this.runStart = this.runEnd = 0;
  }

  /**
   * What the walker passed on since the last call, as one buffer (none if nothing): the stream
   * sends it on once per chunk received, however many pieces the walker cut it into.
   */
  output(): Buffer | undefined {
    this.settle();
    if (this.passed.length === 0) return undefined;
    const out = this.passed.length === 1 ? this.passed[0] : Buffer.concat(this.passed);
    this.passed.length = this.joined = 0;
    return out;
  }

  get available(): number {
    return this.buffered.length - this.offset;
  }

  /** Waits until `length` bytes are buffered, or the upload ends with fewer. */
  * need(length: number): Walk {
    while (this.available < length && !this.ended) yield;
  }

  /** Up to `length` buffered bytes, not consumed. */
  peek(length: number): Buffer {
    return this.buffered.subarray(this.offset, this.offset + length);
  }

  /** Whether the buffered bytes from `pos` on begin with `prefix`. */
  startsWith(pos: number, prefix: Buffer): boolean {
    const from = this.offset + pos;
    return from + prefix.length <= this.buffered.length && this.buffered.compare(prefix, 0, prefix.length, from, from + prefix.length) === 0;
  }

  /** Where `byte` is among the buffered bytes from `from` on, or -1. */
  indexOf(byte: number, from: number): number {
    const at = this.buffered.indexOf(byte, this.offset + from);
    return at === -1 ? -1 : at - this.offset;
  }

  /** How many of the buffered bytes from `from` on are `byte`, one after another. */
  runOf(byte: number, from: number): number {
    let at = this.offset + from;
    while (this.buffered[at] === byte) at++;
    return at - this.offset - from;
  }

  /** The buffered byte at `pos`, or undefined. */
  at(pos: number): number | undefined {
    return this.buffered[this.offset + pos];
  }

  /** The big-endian 16-bit number at `pos`, which is buffered. */
  u16(pos: number): number {
    return this.buffered.readUInt16BE(this.offset + pos);
  }

  /** The big-endian 32-bit number at `pos`, which is buffered. */
  u32(pos: number): number {
    return this.buffered.readUInt32BE(this.offset + pos);
  }

  /** Sends on `length` buffered bytes. */
  pass(length: number): void {
    const now = Math.min(length, this.available);
    if (now <= 0) return;
    if (this.runEnd !== this.offset) {
      this.settle();
      this.runStart = this.offset;
    }
    this.offset += now;
    this.runEnd = this.offset;
  }

  /** Drops `length` buffered bytes. */
  discard(length: number): void {
    this.offset += Math.min(length, this.available);
  }

  /** Sends new bytes that were not in the upload. */
  insert(data: Buffer): void {
    this.settle();
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

  private* advance(length: number, take: (now: number) => void): Walk {
    for (let left = length; left > 0;) {
      yield* this.need(1);
      if (this.available === 0) return;
      const now = Math.min(left, this.available);
      take(now);
      left -= now;
    }
  }

  /** Sends on everything to the end: where a walker cannot parse further, it removes nothing. */
  * passRest(): Walk {
    yield* this.passOn(Infinity);
  }

  /** Drops everything to the end (what follows a format's own end marker). */
  * dropRest(): Walk {
    yield* this.skipOver(Infinity);
  }

  /** Moves the run passed on into `passed`, joining the pieces once there are many. */
  private settle(): void {
    if (this.runEnd > this.runStart) this.passed.push(this.buffered.subarray(this.runStart, this.runEnd));
    this.runStart = this.runEnd = this.offset;
    if (this.passed.length - this.joined >= MAX_PIECES) {
      this.passed.push(Buffer.concat(this.passed.splice(this.joined)));
      this.joined++;
    }
  }
}
