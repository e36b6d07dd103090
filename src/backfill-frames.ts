// Counts the frames of the images stored before frames were counted at upload (frames 0 in the
// database; they read as still images meanwhile), in the background once the server listens.
// From the original's bytes, without decoding: a GIF's blocks, a WebP's chunks or a TIFF's pages
// (images/parts.ts), walked no further than an upload's probe walks them. One image at a time,
// through a copy of its original in the data directory's tmp, which any store can give.
//
// Every node sharing a PostgreSQL database runs it at start-up. Two nodes counting the same image
// at once is harmless: both read the same immutable original and find the same number, and
// setFrames writes only where frames are still 0, so nothing counted is ever overwritten.
import type { Logger } from 'pino';
import { BlobMissing } from './errors.js';
import { countParts, type PartsFormat } from './images/parts.js';
import { OTHER_PARTS } from './images/probe.js';
import type { ImageRepo, UncountedFrames } from './repo/index.js';
import { withLocalCopy, type BlobStore } from './store/index.js';

export interface BackfillOptions {
  tmpDir: string;
  /** `--max_frames`: the count stops past it, as an upload's probe does. */
  maxFrames: number;
  log: Pick<Logger, 'info' | 'warn'>;
  /** Aborted when the server closes: the copy under way is abandoned and nothing more is counted. */
  signal: AbortSignal;
}

/** Records read at a time. */
const PAGE = 100;

const MULTIPART: ReadonlySet<string> = new Set<PartsFormat>(['gif', 'webp', 'tiff']);
const mayHaveFrames = (format: string): format is PartsFormat => MULTIPART.has(format);

/**
 * Counts the frames of every image not counted yet. Never throws: when the database or the store
 * fails, it logs a warning and stops, and what is left is counted at the next start.
 */
export async function backfillFrames(repo: ImageRepo, store: BlobStore, opts: BackfillOptions): Promise<void> {
  let counted = 0;
  try {
    for (let after = 0; ;) {
      const page = await repo.uncountedFrames(PAGE, after);
      if (page.length === 0) break;
      for (const image of page) {
        opts.signal.throwIfAborted();
        const frames = await framesOf(image, store, opts);
        if (frames !== null && await repo.setFrames(image.id, frames)) counted++;
        after = image.seq;
      }
    }
  } catch (err) {
    if (!opts.signal.aborted) opts.log.warn({ err }, 'counting the frames of older images stopped; the rest are counted at the next start');
  }
  if (counted > 0) opts.log.info({ counted }, 'counted the frames of older images');
}

/**
 * The image's frames; null to leave it uncounted, when it is a pending upload whose original is
 * not stored yet (an older node's, or one a crash left for gc). Throws when the store or the
 * temporary file fails, which says nothing of the image.
 */
async function framesOf(image: UncountedFrames, store: BlobStore, opts: BackfillOptions): Promise<number | null> {
  const { format } = image;
  if (!mayHaveFrames(format)) return 1;
  try {
    return await withLocalCopy(store, image.origHash, opts.tmpDir, 'frames', async (path) => {
      try {
        // With probe's slack for parts other than frames: a file it accepted is counted whole.
        return Math.max(1, (await countParts(path, format, opts.maxFrames + OTHER_PARTS)).frames);
      } catch (err) {
        opts.log.warn({ err, id: image.id }, 'the original of an image is unreadable: its frames are taken as 1');
        return 1;
      }
    }, opts.signal);
  } catch (err) {
    if (!(err instanceof BlobMissing)) throw err;
    if (!image.ready) return null;
    opts.log.warn({ id: image.id, hash: image.origHash }, 'the original of an image is missing: its frames are taken as 1');
    return 1;
  }
}
