// Garbage collection: what a crash or an interrupted upload can leave behind, removed once it
// is older than the grace period (so uploads in flight on any node are never touched).
import type { ImageRepo } from './repo/index.js';
import type { BlobStore } from './store/index.js';

export interface GcReport {
  /** Ids of uploads that never finished. */
  unfinished: string[];
  /** Keys of blobs no image refers to. */
  blobs: string[];
  /** Temporary files of interrupted writes. */
  temp: string[];
}

/** Deletes the blobs of a removed record that no other image shares. */
export async function releaseBlobs(repo: ImageRepo, store: BlobStore, hashes: Iterable<string>): Promise<string[]> {
  const removed: string[] = [];
  for (const hash of new Set(hashes)) {
    if (await store.removeUnlessReferenced(hash, () => repo.isReferenced(hash))) removed.push(hash);
  }
  return removed;
}

export async function collectGarbage(
  repo: ImageRepo,
  store: BlobStore,
  sweepSpool: (olderThan: Date) => Promise<string[]>,
  graceMs: number,
): Promise<GcReport> {
  const cutoff = new Date(Date.now() - graceMs);
  const report: GcReport = { unfinished: [], blobs: [], temp: [] };
  for (const image of await repo.stalePending(cutoff)) {
    if (!(await repo.remove(image.id))) continue;
    report.unfinished.push(image.id);
    report.blobs.push(...await releaseBlobs(repo, store, [image.orig.hash, image.thumb.hash]));
  }
  const referenced = await repo.referencedHashes();
  const orphans: string[] = [];
  for await (const blob of store.list()) {
    if (!referenced.has(blob.key) && blob.modified < cutoff) orphans.push(blob.key);
  }
  report.blobs.push(...await releaseBlobs(repo, store, orphans));
  report.temp = [...await sweepSpool(cutoff), ...await store.sweep(cutoff)];
  return report;
}
