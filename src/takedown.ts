// Taking bytes down at once and for good: every image with that original goes, with its thumbnail,
// the original's variants and their blobs, so nothing of those bytes stays in the store; their
// links answer 410 and a later upload of the same bytes 451. Undo lifts the refusal and the 410s
// only: what was deleted stays deleted.
import { ConfigError, NotFound } from './errors.js';
import { releaseBlobs } from './gc.js';
import { isId } from './ids.js';
import type { ImageRecord, ImageRepo } from './repo/index.js';
import type { BlobStore } from './store/index.js';

export interface TakedownReport {
  /** The original's SHA-256. */
  hash: string;
  /** The image records removed now (none when the bytes were taken down before). */
  removed: ImageRecord[];
  /** Keys of the blobs deleted from the store. */
  blobs: string[];
}

const SHA256 = /^[0-9a-f]{64}$/i;

/** The original a takedown names: its SHA-256, or an image id (live, or removed by a takedown in force). */
async function originalOf(repo: ImageRepo, target: string): Promise<string> {
  if (SHA256.test(target)) return target.toLowerCase();
  if (!isId(target)) throw new ConfigError(`takedown: '${target}' is neither an image id nor a SHA-256 (64 hex digits)`);
  const image = await repo.get(target);
  if (image) return image.orig.hash;
  const takedown = await repo.takedowns.removedBy(target);
  if (takedown) return takedown.hash;
  throw new NotFound(`takedown: there is no image ${target}`);
}

export async function takeDown(repo: ImageRepo, store: BlobStore, target: string, reason: string | null): Promise<TakedownReport> {
  const hash = await originalOf(repo, target);
  const removed = await repo.takedowns.takeDown(hash, reason);
  if (removed === null) throw new NotFound(`takedown: no image has the original ${hash}`);
  const variants = await repo.removeOrphanVariants(hash);
  const blobs = await releaseBlobs(repo, store, [hash, ...removed.map((image) => image.thumb.hash), ...variants.map((v) => v.hash)]);
  return { hash, removed, blobs };
}

/** Lifts the takedown of these bytes (named by SHA-256 or by an id it removed); the hash and the ids given back to 404. */
export async function undoTakedown(repo: ImageRepo, target: string, reason: string | null): Promise<{ hash: string; images: number }> {
  const hash = await originalOf(repo, target);
  const images = await repo.takedowns.undo(hash, reason);
  if (images === null) throw new NotFound(`takedown: the original ${hash} is not taken down`);
  return { hash, images };
}
