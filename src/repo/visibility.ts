// Per-image visibility and lifetime: the public listing leaves out unlisted, expiring-past and
// view-limited images; a view-limited original is counted as it is served, in one statement, so
// the count is exact however many nodes serve it; and images past their time go for good.
// Adapters: sqlite-visibility.ts, postgres-visibility.ts.
import type { ImageRecord } from './index.js';

/** How long an image whose last view was counted stays on disk, so that last download can finish. */
export const LAST_VIEW_GRACE_MS = 60_000;

/** An image the expiry sweep removed: its links keep saying why it went. */
export interface EndedImage {
  id: string;
  /** Removed after its last allowed view, rather than at its expiry. */
  viewsUsedUp: boolean;
}

export interface VisibilityRepo {
  /**
   * The public listing, newest first (`before`: a cursor from an earlier page): ready images that
   * are not unlisted, not expired, and have no view limit (a thumbnail in the listing would show a
   * view-limited image to everyone without spending a view).
   */
  listed(limit: number, before?: number): Promise<ImageRecord[]>;
  /**
   * Counts one view of a ready image when it has views left (or no limit): true when this GET of
   * the original may be served. The view that uses up the limit also brings the image's expiry
   * to LAST_VIEW_GRACE_MS from now, if it was later, so the sweep removes it after that grace.
   */
  countView(id: string): Promise<boolean>;
  /** Whether the image has a view limit and has been served that many times. */
  viewsUsedUp(id: string): Promise<boolean>;
  /** The views counted of an image, pending or ready (0 when missing): for migrate-db, which copies them. */
  views(id: string): Promise<number>;
  /**
   * Raises the views counted of an image, pending or ready, to `views` if it counted fewer
   * (migrate-db, copying a record): a copy is never served more than what was left. Serving
   * counts through countView alone.
   */
  carryViews(id: string, views: number): Promise<void>;
  /**
   * Deletes at most `limit` of the ready images whose expiry has passed and returns them, for
   * their blobs to be released: fewer than `limit` when no more are due. A batch at a time, so a
   * mass expiry holds no lock long and returns no unbounded list. Each is recorded as ended, in
   * the same statement, so its links answer 410 rather than 404.
   */
  removeExpired(limit: number): Promise<ImageRecord[]>;
  /** The image of this id that the sweep removed, or null (never looked up but for an id not found). */
  ended(id: string): Promise<EndedImage | null>;
  /** Every image the sweep removed (for migrate-db). */
  endedImages(): Promise<EndedImage[]>;
  /** Records an image another store's sweep removed (migrate-db); false when recorded already. */
  copyEnded(image: EndedImage): Promise<boolean>;
}
