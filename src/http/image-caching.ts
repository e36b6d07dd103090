// How long browsers and shared caches may keep an image's files. Blobs are immutable, so an image
// kept until deleted may be cached for a year; one that expires only until it does; and one with
// a view limit nowhere, since a cache would serve views nobody counted.
import type { ImageRecord } from '../repo/index.js';

/** Cache-Control for the files of `image`, or undefined for the immutable default. */
export function cacheControlOf(image: Pick<ImageRecord, 'expiresAt' | 'maxViews'>, now = Date.now()): string | undefined {
  if (image.maxViews !== null) return 'private, no-store';
  if (image.expiresAt === null) return undefined;
  return `public, max-age=${String(Math.max(0, Math.floor((image.expiresAt.getTime() - now) / 1000)))}`;
}

/** Whether the store may serve the image's files itself (s3_public_url): not when it must count views or end. */
export const mayPublish = (image: Pick<ImageRecord, 'expiresAt' | 'maxViews'>): boolean => image.maxViews === null && image.expiresAt === null;
