// Renditions, thumbnails and variants alike, made by sharp/libvips. sharp does its work on
// libuv's thread pool, so the event loop only waits; the pool in pool.ts bounds how many run at once.
import sharp from 'sharp';
import { ImageTooComplex, NotAnImage } from '../errors.js';
import { animates, encode, familyOf, type Encoding } from './encode.js';
import { formatMime } from './formats.js';
import './loaders.js';
import type { DecodeLimits } from './probe.js';

// libvips keeps up to 20 input files open (mapped) for its cache by default. Uploads are all
// different, so that cache never hits; it only kept spooled uploads and deleted blobs holding
// their disk space, sometimes for as long as the process ran. Its operation cache (up to 50 MB
// of pixels) never hits either, for the same reason.
sharp.cache(false);
// Parallelism comes from making thumb_concurrency thumbnails at once (one per core by default),
// one libvips thread each: more threads per image would only oversubscribe the cores. (glibc
// builds default to 1 already; others default to one per core.)
sharp.concurrency(1);

export interface Rendition {
  data: Buffer;
  /** Of one frame, for an animation. */
  width: number;
  height: number;
  mime: string;
}

/**
 * What a rendition is encoded as: a thumbnail's format, GIF, or 'family', the original's own
 * kind decided from its pixels (GIF for a GIF or an animation, PNG where there is alpha, else JPEG).
 */
export type OutputFormat = Encoding | 'family';

/** `inside`: fit within the box, keeping the whole image; `cover`: fill the box, cropping the rest. */
export type Fit = 'inside' | 'cover';
/** Where a `cover` crop keeps the image (sharp's positions), or how it finds what matters. */
export const gravities = ['centre', 'north', 'northeast', 'east', 'southeast', 'south', 'southwest', 'west', 'northwest',
  'entropy', 'attention'] as const;
export type Gravity = (typeof gravities)[number];

/**
 * The rendition to make: a box of `width` x `height` (0: no bound on that side, for `inside`
 * only), how the image goes into it, and the encoding. Never larger than the original.
 * `animated`: keep every frame of an animated source, when the encoding can (WebP, GIF).
 */
export interface RenditionSpec { width: number; height: number; fit: Fit; gravity?: Gravity; format: OutputFormat; animated?: boolean }

/** A square box the image fits inside: the thumbnail and the named variant sizes. */
export const squareSpec = (size: number, format: OutputFormat): RenditionSpec => ({ width: size, height: size, fit: 'inside', format });

/**
 * Identifies the settings a rendition was made with, so a duplicate upload can reuse it: a square
 * fitted inside reads `SIZE:FORMAT`, as recorded before other boxes existed; an animated one
 * ends in `:animated`, so it never stands for the still rendition of the same box and format.
 */
export function specKey({ width, height, fit, gravity, format, animated }: RenditionSpec): string {
  const frames = animated === true ? ':animated' : '';
  if (fit === 'inside' && width === height) return `${String(width)}:${format}${frames}`;
  return `${String(width)}x${String(height)}:${fit}${fit === 'cover' ? `-${gravity ?? 'centre'}` : ''}:${format}${frames}`;
}

export async function makeRendition(path: string, spec: RenditionSpec, limits: DecodeLimits): Promise<Rendition> {
  const { width, height, fit, gravity } = spec;
  try {
    const { encoding, animated } = await plan(path, spec);
    // With every frame decoded, limitInputPixels bounds all of them together, as max_pixels does at upload.
    let pipeline = sharp(path, { limitInputPixels: limits.maxPixels, failOn: 'error', autoOrient: true, animated })
      // libvips checks this between the tiles it computes: it stops a slow encode or a slow
      // image of many tiles, but not a decoder that reads the whole file in one go (a progressive
      // JPEG of thousands of scans). The thumbnail process is killed for those (thumbnailer.ts).
      .timeout({ seconds: limits.timeoutSeconds })
      // Lanczos-3 (sharp's default kernel) for a sharp downscale, frame by frame for an animation;
      // never larger than the original.
      .resize({
        width: width > 0 ? width : undefined,
        height: height > 0 ? height : undefined,
        fit,
        position: fit === 'cover' ? coverPosition(gravity, animated) : undefined,
        withoutEnlargement: true,
      });
    // JPEG has no alpha channel: put transparent images on white rather than black.
    if (encoding === 'jpeg') pipeline = pipeline.flatten({ background: '#ffffff' });
    // Output is sRGB (sharp converts from an embedded ICC profile) and carries no metadata.
    const { data, info } = await encode(pipeline, encoding).toBuffer({ resolveWithObject: true });
    return { data, width: info.width, height: info.pageHeight ?? info.height, mime: formatMime(encoding) };
  } catch (err) {
    if (err instanceof Error && err.message.startsWith('timeout:')) throw new ImageTooComplex(limits.timeoutSeconds);
    // The header looked like an image but the pixels do not decode (truncated, corrupt).
    throw new NotAnImage();
  }
}

/**
 * The encoding, and whether every frame is kept: only when asked, the source has several, and
 * the encoding animates. Otherwise the first frame alone is decoded. libvips turns no
 * animation, so one stored sideways (an EXIF orientation in a WebP, rare) is made still, upright.
 */
async function plan(path: string, { format, animated }: RenditionSpec): Promise<{ encoding: Encoding; animated: boolean }> {
  if (format !== 'family' && animated !== true) return { encoding: format, animated: false };
  const meta = await sharp(path).metadata();
  const playable = animated === true && (meta.pages ?? 1) > 1 && (meta.orientation ?? 1) === 1;
  const encoding = format === 'family' ? familyOf(meta, playable) : format;
  return { encoding, animated: playable && animates(encoding) };
}

/** libvips finds what matters (entropy, attention) in one picture, not across frames: an animation is cropped around its centre. */
function coverPosition(gravity: Gravity | undefined, animated: boolean): Gravity {
  return animated && (gravity === 'entropy' || gravity === 'attention') ? 'centre' : gravity ?? 'centre';
}
