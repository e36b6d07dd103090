// The blob store: immutable bytes under content-addressed keys (the SHA-256 of the bytes), so the
// same file uploaded twice is stored once. Adapters: fs.ts (embedded default), s3.ts.
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BlobMissing } from '../errors.js';
import { uniqueSuffix } from '../ids.js';

/** A blob key: the lowercase hex SHA-256 of the bytes, and nothing that could name a path. */
export const BLOB_KEY = /^[0-9a-f]{64}$/;

/** Inclusive byte range, as in an HTTP Range header. */
export interface ByteRange { start: number; end: number }

export interface BlobInfo { key: string; bytes: number; modified: Date }

export interface SweepReport {
  /** What was removed, described for people (paths, object URLs). */
  removed: string[];
  /** Keys of blobs put back from a copy a removal had parked. */
  restored: string[];
}

export interface BlobStore {
  /** Throws when the store cannot be reached. */
  ping(): Promise<void>;
  has(key: string): Promise<boolean>;
  /**
   * Stores the bytes of a local file (which the store may move away) or a buffer under `key`,
   * durably and atomically: a reader sees the whole blob or nothing. `mime`, when known, is kept
   * where the store can keep it, so a bucket serving the blob directly sends the right type.
   */
  put(key: string, source: { path: string } | Buffer, mime?: string): Promise<void>;
  /**
   * Rejects with BlobMissing when there is no such blob. A blob a removal parked and never put
   * back (its process died) is put back first: only a record that needs the blob asks for it.
   */
  read(key: string, range?: ByteRange): Promise<Readable>;
  /**
   * Deletes the blob unless `isReferenced` says an image still needs it. The check runs after
   * the blob is out of readers' reach (parked), and the blob is put back if the answer is yes,
   * so a concurrent upload of the same bytes never ends up pointing at nothing. A removal that
   * dies while the blob is parked leaves the parked copy for `read` and `sweep` to put back.
   */
  removeUnlessReferenced(key: string, isReferenced: () => Promise<boolean>): Promise<boolean>;
  /** Every blob, for gc. */
  list(): AsyncIterable<BlobInfo>;
  /**
   * Removes what interrupted writes begun before `olderThan` left behind, and settles the copies
   * removals parked before then: put back when `isReferenced`, else deleted.
   */
  sweep(olderThan: Date, isReferenced: (key: string) => Promise<boolean>): Promise<SweepReport>;
  /** Releases what the store holds open (an S3 client's sockets); the store is not used after. */
  close(): Promise<void>;
  /** Where clients can fetch the blob directly, if the store is published; null when not. */
  publicUrl?(key: string): string | null;
  /** The blob's file relative to the store's root, when the store is a directory a web server can read. */
  localPath?(key: string): string;
}

/**
 * `BlobStore.read` for an adapter: `open` the blob and, when it is missing, put back a copy a
 * dead removal left parked (`restoreParked` says whether there was one) and open it again.
 */
export async function readRestoringParked(open: () => Promise<Readable>, restoreParked: () => Promise<boolean>): Promise<Readable> {
  try {
    return await open();
  } catch (err) {
    if (!(err instanceof BlobMissing) || !(await restoreParked())) throw err;
    return open();
  }
}

/**
 * Runs `use` on a copy of blob `key` in a temporary file of `tmpDir` (named `<prefix>-…`),
 * removed afterwards: for work that needs a file path whatever the store (libvips, the part
 * counter). Throws BlobMissing, as `read` does, when the blob is not there.
 */
export async function withLocalCopy<T>(store: BlobStore, key: string, tmpDir: string, prefix: string,
  use: (path: string) => Promise<T>, signal?: AbortSignal): Promise<T> {
  const path = join(tmpDir, `${prefix}-${uniqueSuffix(8)}`);
  try {
    await pipeline(await store.read(key), createWriteStream(path), { signal });
    return await use(path);
  } finally {
    await rm(path, { force: true });
  }
}
