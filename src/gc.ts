// Garbage collection: what a crash or an interrupted upload can leave behind. Unfinished uploads
// go once their lease ran out, temporary files once untouched for longer than both a lease and the
// grace period (a live upload renews and touches them: upload-lease.ts), orphan blobs once older
// than the grace period; copies parked by a removal that died go back if an image needs them.
import { PENDING_LEASE, type ImageRepo } from './repo/index.js';
import type { BlobStore } from './store/index.js';

export interface GcReport {
  /** Ids of images removed for being past their expiry (or their last view's grace). */
  expired: string[];
  /** Ids of uploads that never finished. */
  unfinished: string[];
  /** Keys of blobs no image refers to. */
  blobs: string[];
  /** Temporary files of interrupted writes. */
  temp: string[];
  /** Keys of blobs a removal that died had parked, put back because an image needs them. */
  restored: string[];
}

/** Deletes the blobs of a removed record that no other image shares. */
export async function releaseBlobs(repo: ImageRepo, store: BlobStore, hashes: Iterable<string>): Promise<string[]> {
  const removed: string[] = [];
  for (const hash of new Set(hashes)) {
    if (await store.removeUnlessReferenced(hash, () => repo.isReferenced(hash))) removed.push(hash);
  }
  return removed;
}

/** Expired images removed at a time: each batch is one short write, however many expire at once. */
export const EXPIRED_BATCH = 500;

/**
 * Removes the images past their expiry, a batch at a time, then the variants of originals no
 * image has any more, and the blobs of both that no other image or variant uses; answers the
 * removed images' ids.
 */
export async function removeExpired(repo: ImageRepo, store: BlobStore, batch = EXPIRED_BATCH): Promise<string[]> {
  const ids: string[] = [];
  for (;;) {
    const removed = await repo.visibility.removeExpired(batch);
    const variants = (await Promise.all([...new Set(removed.map((image) => image.orig.hash))]
      .map((hash) => repo.removeOrphanVariants(hash)))).flat();
    await releaseBlobs(repo, store, [...removed.flatMap((image) => [image.orig.hash, image.thumb.hash]), ...variants.map((v) => v.hash)]);
    ids.push(...removed.map((image) => image.id));
    if (removed.length < batch) return ids;
  }
}

/** Blobs the sweep asks the repository about at a time: its memory stays flat at any library size. */
const BLOB_BATCH = 1000;

/** Keys of the stored blobs older than the cutoff, in batches. */
async function* oldBlobs(store: BlobStore, cutoff: Date): AsyncIterable<string[]> {
  let batch: string[] = [];
  for await (const blob of store.list()) {
    if (blob.modified >= cutoff) continue;
    batch.push(blob.key);
    if (batch.length === BLOB_BATCH) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

export async function collectGarbage(
  repo: ImageRepo,
  store: BlobStore,
  sweepSpool: (olderThan: Date) => Promise<string[]>,
  graceMs: number,
): Promise<GcReport> {
  const now = Date.now();
  const cutoff = new Date(now - graceMs);
  const tempCutoff = new Date(now - Math.max(graceMs, PENDING_LEASE.durationMs));
  const report: GcReport = { expired: await removeExpired(repo, store), unfinished: [], blobs: [], temp: [], restored: [] };
  for (const image of await repo.removeExpiredPending()) {
    report.unfinished.push(image.id);
    report.blobs.push(...await releaseBlobs(repo, store, [image.orig.hash, image.thumb.hash]));
  }
  // Variants recorded for an original whose last image went meanwhile (made during its delete).
  const orphanVariants = await repo.removeOrphanVariants();
  report.blobs.push(...await releaseBlobs(repo, store, orphanVariants.map((variant) => variant.hash)));
  for await (const batch of oldBlobs(store, cutoff)) {
    const referenced = await repo.referencedAmong(batch);
    report.blobs.push(...await releaseBlobs(repo, store, batch.filter((key) => !referenced.has(key))));
  }
  const swept = await store.sweep(tempCutoff, (key) => repo.isReferenced(key));
  report.temp = [...await sweepSpool(tempCutoff), ...swept.removed];
  report.restored = swept.restored;
  return report;
}
