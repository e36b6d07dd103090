// SHA-256, the content hash that names blobs and checks copies of them.
import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';

export const sha256Digest = (data: Buffer | string): Buffer => createHash('sha256').update(data).digest();

export const sha256 = (data: Buffer | string): string => sha256Digest(data).toString('hex');

/** A pass-through that hashes what flows through it; `sha256()` gives the hex digest once it has ended. */
export class HashingStream extends Transform {
  private readonly hash = createHash('sha256');
  bytes = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: (err: null, chunk: Buffer) => void): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    done(null, chunk);
  }

  sha256(): string {
    return this.hash.digest('hex');
  }
}
