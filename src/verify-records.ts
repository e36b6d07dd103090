// The records' side of `imghost verify`: rules the server keeps that a crash, a hand-edited
// database or a copy from elsewhere could break. `--repair` fixes what has one safe answer: an
// owner who is no user leaves the image anonymous (as removing a user does), and an image of
// taken-down bytes is taken down again. A view count past its limit and an image long expired are
// only reported: the expiry sweep, or imghost gc, removes them.
import type { ImageRepo } from './repo/index.js';
import type { BlobStore } from './store/index.js';
import { takeDown } from './takedown.js';

/** How long past its expiry an image may wait for the sweep (every --expiry_sweep seconds, 60 by default) before it is reported. */
export const EXPIRY_GRACE_MS = 60 * 60_000;

export interface RecordProblem {
  id: string;
  problem: string;
  /** What --repair does: make the image anonymous, take its original (this hash) down again, or nothing. */
  repair: 'disown' | { takeDown: string } | null;
}

export async function recordProblems(repo: ImageRepo, now = new Date()): Promise<RecordProblem[]> {
  const { integrity } = repo;
  const [owners, refused, viewed, expired] = await Promise.all([integrity.danglingOwners(), integrity.refusedOriginals(),
    integrity.overViewed(), integrity.expiredBefore(new Date(now.getTime() - EXPIRY_GRACE_MS))]);
  return [
    ...owners.map(({ id, owner }): RecordProblem => ({ id, problem: `owner ${owner} is not a user`, repair: 'disown' })),
    ...refused.map(({ id, hash }): RecordProblem => ({ id, problem: `original ${hash} is taken down`, repair: { takeDown: hash } })),
    ...viewed.map(({ id, views, maxViews }): RecordProblem =>
      ({ id, problem: `served ${String(views)} views, past its limit of ${String(maxViews)}`, repair: null })),
    ...expired.map(({ id, expiresAt }): RecordProblem =>
      ({ id, problem: `expired at ${expiresAt.toISOString()} and is still stored`, repair: null })),
  ];
}

/** Applies the repairs of `problems`; the number of images repaired. */
export async function repairRecords(repo: ImageRepo, store: BlobStore, problems: readonly RecordProblem[]): Promise<number> {
  const repaired = new Set<string>();
  if (problems.some((p) => p.repair === 'disown')) {
    await repo.integrity.disownDangling();
    for (const p of problems) if (p.repair === 'disown') repaired.add(p.id);
  }
  const hashes = new Set(problems.flatMap((p) => (typeof p.repair === 'object' && p.repair !== null ? [p.repair.takeDown] : [])));
  for (const hash of hashes) {
    for (const image of (await takeDown(repo, store, hash, null)).removed) repaired.add(image.id);
  }
  return repaired.size;
}
