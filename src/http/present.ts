// How an image looks to clients: the JSON of the API, also handed to the page templates, and the
// renditions the image page offers a browser to choose from.
import type { ImageRecord, NewImage } from '../repo/index.js';
import type { Config } from '../config/options.js';
import { isAnimated, parseVariants } from '../variants/spec.js';

export interface ImageJson {
  id: string;
  url: string;
  thumb_url: string;
  page_url: string;
  /** One URL per configured variant name (--variants), smallest first. */
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
}

/** An upload's answer: the image, and the delete token its uploader alone receives. */
export type UploadedJson = ImageJson & { delete_token: string };

/** What an `<img>` offers: a fallback `src` and the `srcset` candidates by width. */
export interface Renditions { src: string; srcset: string }

export interface Presenter {
  image: (image: NewImage | ImageRecord) => ImageJson;
  uploaded: (image: NewImage, deleteToken: string) => UploadedJson;
  /** The variants smaller than the original, then the original itself when no variant reaches its size. */
  renditions: (image: ImageJson) => Renditions;
  /**
   * The thumbnail for 1x screens and the smallest variant twice its box for 2x, or undefined when
   * no variant is that large. The thumbnail is still: an animation plays from the smallest
   * variant that fills its box (its 2x one on 2x screens).
   */
  thumbSrcset: (image: ImageJson) => string | undefined;
}

/** A presenter for the variant sizes of `--variants` and thumbnails of `--thumb_size`. */
export function presenter(config: Pick<Config, 'variants' | 'thumb_size'>): Presenter {
  // Smallest first, as srcset candidates read most naturally.
  const sizes = [...parseVariants(config.variants)].sort(([, a], [, b]) => a - b);
  const smallestOf = (px: number) => sizes.find(([, size]) => size >= px)?.[0];
  const hidpiThumb = smallestOf(2 * config.thumb_size);
  const animatedThumb = smallestOf(config.thumb_size);
  const image = (img: NewImage | ImageRecord): ImageJson => ({
    id: img.id,
    url: `/imgs/${img.id}/orig`,
    thumb_url: `/imgs/${img.id}/thumb`,
    page_url: `/i/${img.id}`,
    variants: Object.fromEntries(sizes.map(([name]) => [name, `/imgs/${img.id}/${name}`])),
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
  });
  return {
    image,
    uploaded: (img, deleteToken) => ({ ...image(img), delete_token: deleteToken }),
    thumbSrcset: (img) => {
      const variant = (name: string) => `/imgs/${img.id}/${name}`;
      if (img.animated && animatedThumb !== undefined) return `${variant(animatedThumb)} 1x, ${variant(hidpiThumb ?? animatedThumb)} 2x`;
      return hidpiThumb === undefined ? undefined : `${img.thumb_url} 1x, ${variant(hidpiThumb)} 2x`;
    },
    renditions: (img) => {
      // A variant fits its longest side into its size and is never enlarged, so one at least as
      // large as the original is the original's pixels again: the original stands in for it.
      const longest = Math.max(img.width, img.height);
      const smaller = sizes.filter(([, size]) => size < longest)
        .map(([name, size]) => ({ url: `/imgs/${img.id}/${name}`, width: Math.max(1, Math.round(img.width * size / longest)) }));
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
