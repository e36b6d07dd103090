// Checking a library against its records: every ready image's original, thumbnail and variants
// must be in the store, whole, with the content hash and size the record names. Works through
// the repo and store interfaces only, so it checks the embedded store and PostgreSQL/S3 alike.
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pLimit from 'p-limit';
import { BlobMissing, Unavailable } from './errors.js';
import { releaseBlobs } from './gc.js';
import { HashingStream } from './hash.js';
import { countProgress, type OnProgress } from './progress.js';
import { readyRecords, type BlobRef, type ImageRepo, type VariantRecord } from './repo/index.js';
import type { BlobStore } from './store/index.js';

export interface Damage {
  id: string;
  problems: string[];
  /** Whether every problem is a damaged variant, which forgetVariants repairs. */
  variantsOnly: boolean;
}

export interface VerifyReport {
  checked: number;
  damaged: Damage[];
  /** Variants whose blob is missing or damaged, once each however many images share them. */
  damagedVariants: VariantRecord[];
}

/** Checks every ready record, `concurrency` at a time; damaged records are reported newest first. */
export async function verifyLibrary(repo: ImageRepo, store: BlobStore, concurrency: number,
  onProgress: OnProgress = () => undefined): Promise<VerifyReport> {
  const records = await readyRecords(repo);
  const limit = pLimit(concurrency);
  // Deduplicated images share blobs and variants: each is read and hashed once, whatever refers to it.
  const problemOf = memoized((ref: BlobRef) => blobProblem(store, ref), (ref) => ref.hash);
  const check = async (what: string, ref: BlobRef): Promise<string | null> => {
    const found = await problemOf(ref);
    return found === null ? null : `${what} ${ref.hash} ${found}`;
  };
  const variantsOf = memoized((origHash: string) => repo.variantsOf(origHash), (origHash) => origHash);
  const damagedVariants = new Map<string, VariantRecord>();
  const oneDone = countProgress(records.length, onProgress);
  const problems = await Promise.all(records.map((record) => limit(async (): Promise<Damage> => {
    const found = [await check('original', record.orig), await check('thumbnail', record.thumb)]
      .filter((problem) => problem !== null);
    const variantsOnly = found.length === 0;
    for (const variant of await variantsOf(record.orig.hash)) {
      const problem = await check(`variant ${variant.spec}`, variant);
      if (problem === null) continue;
      found.push(problem);
      damagedVariants.set(`${variant.origHash} ${variant.spec}`, variant);
    }
    oneDone();
    return { id: record.id, problems: found, variantsOnly };
  })));
  return {
    checked: records.length,
    damaged: problems.filter((d) => d.problems.length > 0),
    damagedVariants: [...damagedVariants.values()],
  };
}

/**
 * Forgets damaged variants: their records, and their blobs unless something else refers to the
 * same bytes. A variant is derived from its original, so the next request for it makes it again;
 * left as it is, a corrupt one would be served as it is.
 */
export async function forgetVariants(repo: ImageRepo, store: BlobStore, variants: readonly VariantRecord[]): Promise<void> {
  for (const variant of variants) await repo.removeVariant(variant.origHash, variant.spec, variant.hash);
  await releaseBlobs(repo, store, variants.map((variant) => variant.hash));
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

/** `load` called once per key, its promise shared by every later call. */
function memoized<A, T>(load: (arg: A) => Promise<T>, keyOf: (arg: A) => string): (arg: A) => Promise<T> {
  const loaded = new Map<string, Promise<T>>();
  return (arg) => {
    const key = keyOf(arg);
    let value = loaded.get(key);
    if (!value) {
      value = load(arg);
      loaded.set(key, value);
    }
    return value;
  };
}

const discard = (): Writable => new Writable({ write(_chunk, _encoding, done) { done(); } });
