// How an image looks to clients: the JSON of the API, also handed to the page templates, and the
// renditions the image page offers a browser to choose from.
import type { FastifyRequest } from 'fastify';
import type { ImageRecord, NewImage } from '../repo/index.js';
import type { Config } from '../config/options.js';
import { linkBase } from './origin.js';
import { isAnimated, parseVariants } from '../variants/spec.js';

export interface ImageJson {
  id: string;
  url: string;
  thumb_url: string;
  page_url: string;
  /** One URL per configured variant name (--variants), smallest first; none for a view-limited image, served only as its original. */
  variants: Record<string, string>;
  name: string | null;
  format: string;
  mime: string;
  width: number;
  height: number;
  bytes: number;
  sha256: string;
  created_at: string;
  thumb: { width: number; height: number; bytes: number; mime: string };
  /** Whether the image is an animation (a GIF or WebP of several frames), and its frames or pages (1 for a still image). */
  animated: boolean;
  frames: number;
  /** A ThumbHash (base64) of the image to paint while it loads, or null. */
  placeholder: string | null;
  /** Left out of the public listing. */
  unlisted: boolean;
  /** When its links answer 410 Gone (ISO 8601), or null when it is kept until deleted. */
  expires_at: string | null;
  /** GETs of the original it is served to before its links answer 410 Gone, or null for no limit. */
  max_views: number | null;
}

/**
 * An upload's answer: the image, and what its uploader alone receives: the delete token, and the
 * deletion page's link, which carries the token in its path (so request logs can mask it).
 */
export type UploadedJson = ImageJson & { delete_token: string; delete_url: string };

/** What an `<img>` offers: a fallback `src` and the `srcset` candidates by width. */
export interface Renditions { src: string; srcset: string }

/**
 * `base` is where the image's links start: `present.base(request)` for everything a client keeps
 * (API answers, share links, previews), so they are absolute; '' for site paths in a page's own
 * markup, which work whichever address the page was reached at.
 */
export interface Presenter {
  image: (image: NewImage | ImageRecord, base: string) => ImageJson;
  uploaded: (image: NewImage, deleteToken: string, base: string) => UploadedJson;
  /** Where a request's absolute links start: --public_url, or the origin the request reached. Throws BadHost. */
  base: (request: FastifyRequest) => string;
  /** For the page's markup (an image of base ''): the variants smaller than the original, then the original itself when no variant reaches its size. */
  renditions: (image: ImageJson) => Renditions;
  /**
   * The thumbnail for 1x screens and the smallest variant twice its box for 2x, or undefined when
   * no variant is that large. The thumbnail is still: an animation plays from the smallest
   * variant that fills its box (its 2x one on 2x screens).
   */
  thumbSrcset: (image: ImageJson) => string | undefined;
}

/** The size of an image fitted inside a square box, never enlarged, rounded as sharp rounds it. */
export function fitInside({ width, height }: { width: number; height: number }, box: number): { width: number; height: number } {
  const longest = Math.max(width, height);
  if (box >= longest) return { width, height };
  const scale = (side: number) => Math.max(1, Math.round(side * box / longest));
  return { width: scale(width), height: scale(height) };
}

/** `publicBase`: --public_url, normalised, or null to build links from the request's validated Host. */
export type PresenterOptions = Pick<Config, 'variants' | 'thumb_size'> & { publicBase: string | null };

/** A presenter for the variant sizes of `--variants` and thumbnails of `--thumb_size`. */
export function presenter(config: PresenterOptions): Presenter {
  // Smallest first, as srcset candidates read most naturally.
  const sizes = [...parseVariants(config.variants)].sort(([, a], [, b]) => a - b);
  const smallestOf = (px: number) => sizes.find(([, size]) => size >= px)?.[0];
  const hidpiThumb = smallestOf(2 * config.thumb_size);
  const animatedThumb = smallestOf(config.thumb_size);
  const image = (img: NewImage | ImageRecord, base: string): ImageJson => ({
    id: img.id,
    url: `${base}/imgs/${img.id}/orig`,
    thumb_url: `${base}/imgs/${img.id}/thumb`,
    page_url: `${base}/i/${img.id}`,
    variants: img.maxViews === null ? Object.fromEntries(sizes.map(([name]) => [name, `${base}/imgs/${img.id}/${name}`])) : {},
    name: img.name,
    format: img.format,
    mime: img.orig.mime,
    width: img.width,
    height: img.height,
    bytes: img.orig.bytes,
    sha256: img.orig.hash,
    created_at: img.createdAt.toISOString(),
    thumb: { width: img.thumb.width, height: img.thumb.height, bytes: img.thumb.bytes, mime: img.thumb.mime },
    animated: isAnimated(img),
    frames: img.frames,
    placeholder: img.placeholder,
    unlisted: img.unlisted,
    expires_at: img.expiresAt?.toISOString() ?? null,
    max_views: img.maxViews,
  });
  return {
    image,
    uploaded: (img, deleteToken, base) => ({
      ...image(img, base),
      delete_token: deleteToken,
      delete_url: `${base}/d/${encodeURIComponent(img.id)}/${encodeURIComponent(deleteToken)}`,
    }),
    base: (request) => linkBase(request, config.publicBase),
    thumbSrcset: (img) => {
      if (img.max_views !== null) return undefined;
      const variant = (name: string) => `/imgs/${img.id}/${name}`;
      if (img.animated && animatedThumb !== undefined) return `${variant(animatedThumb)} 1x, ${variant(hidpiThumb ?? animatedThumb)} 2x`;
      return hidpiThumb === undefined ? undefined : `${img.thumb_url} 1x, ${variant(hidpiThumb)} 2x`;
    },
    renditions: (img) => {
      // A view-limited image's page shows its original alone, so one visit spends one view,
      // whichever size a browser would have picked.
      if (img.max_views !== null) return { src: img.url, srcset: '' };
      // A variant fits its longest side into its size and is never enlarged, so one at least as
      // large as the original is the original's pixels again: the original stands in for it.
      const longest = Math.max(img.width, img.height);
      const smaller = sizes.filter(([, size]) => size < longest)
        .map(([name, size]) => ({ url: `/imgs/${img.id}/${name}`, width: fitInside(img, size).width }));
      const whole = smaller.length === sizes.length && smaller.length > 0;
      const candidates = whole ? smaller : [...smaller, { url: img.url, width: img.width }];
      return {
        // For a browser without srcset: the largest candidate.
        src: candidates.at(-1)?.url ?? img.url,
        srcset: candidates.map((c) => `${c.url} ${String(c.width)}w`).join(', '),
      };
    },
  };
}
