// Checking a library against its records: every ready image's original and thumbnail must be
// in the store, whole, with the content hash and size the record names. Works through the repo
// and store interfaces only, so it checks the embedded store and PostgreSQL/S3 alike.
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pLimit from 'p-limit';
import { BlobMissing, Unavailable } from './errors.js';
import { HashingStream } from './hash.js';
import { countProgress, type OnProgress } from './progress.js';
import { readyRecords, type BlobRef, type ImageRepo } from './repo/index.js';
import type { BlobStore } from './store/index.js';

export interface Damage { id: string; problems: string[] }

export interface VerifyReport { checked: number; damaged: Damage[] }

/** Checks every ready record, `concurrency` at a time; damaged records are reported newest first. */
export async function verifyLibrary(repo: ImageRepo, store: BlobStore, concurrency: number,
  onProgress: OnProgress = () => undefined): Promise<VerifyReport> {
  const records = await readyRecords(repo);
  const limit = pLimit(concurrency);
  // Deduplicated images share blobs: each is read and hashed once, whatever refers to it.
  const checked = new Map<string, Promise<string | null>>();
  const check = async (what: string, ref: BlobRef): Promise<string | null> => {
    let problem = checked.get(ref.hash);
    if (!problem) {
      problem = blobProblem(store, ref);
      checked.set(ref.hash, problem);
    }
    const found = await problem;
    return found === null ? null : `${what} ${ref.hash} ${found}`;
  };
  const oneDone = countProgress(records.length, onProgress);
  const problems = await Promise.all(records.map((record) => limit(async () => {
    const found = [await check('original', record.orig), await check('thumbnail', record.thumb)]
      .filter((problem) => problem !== null);
    oneDone();
    return { id: record.id, problems: found };
  })));
  return { checked: records.length, damaged: problems.filter((d) => d.problems.length > 0) };
}

/** What is wrong with one blob (`is missing`, `is corrupt: …`), or null when it is whole. */
async function blobProblem(store: BlobStore, ref: BlobRef): Promise<string | null> {
  const hasher = new HashingStream();
  try {
    await pipeline(await store.read(ref.hash), hasher, discard());
  } catch (err) {
    if (err instanceof BlobMissing) return 'is missing';
    // A store that cannot be reached says nothing about the blob: stop rather than report damage.
    if (err instanceof Unavailable) throw err;
    return `cannot be read: ${err instanceof Error ? err.message : String(err)}`;
  }
  const actual = hasher.sha256();
  if (actual !== ref.hash) return `is corrupt: its content hashes to ${actual}`;
  if (hasher.bytes !== ref.bytes) return `has ${String(hasher.bytes)} bytes, the record says ${String(ref.bytes)}`;
  return null;
}

const discard = (): Writable => new Writable({ write(_chunk, _encoding, done) { done(); } });
