// The thumbnail pipeline (sharp/libvips). sharp does its work on libuv's thread pool, so the
// event loop only waits; the pool in pool.ts bounds how many run at once.
import sharp, { type Metadata, type Sharp } from 'sharp';
import { ImageTooComplex, NotAnImage } from '../errors.js';
import { formatMime, type ThumbFormat } from './formats.js';
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

export interface Thumbnail {
  data: Buffer;
  width: number;
  height: number;
  mime: string;
}

/**
 * What a rendition is encoded as: a thumbnail's format, GIF, or 'family', the original's own
 * kind decided from its pixels (GIF for a GIF, PNG where there is alpha, else JPEG).
 */
export type OutputFormat = ThumbFormat | 'gif' | 'family';

/** `inside`: fit within the box, keeping the whole image; `cover`: fill the box, cropping the rest. */
export type Fit = 'inside' | 'cover';
/** Where a `cover` crop keeps the image (sharp's positions), or how it finds what matters. */
export const gravities = ['centre', 'north', 'northeast', 'east', 'southeast', 'south', 'southwest', 'west', 'northwest',
  'entropy', 'attention'] as const;
export type Gravity = (typeof gravities)[number];

/**
 * The rendition to make: a box of `width` x `height` (0: no bound on that side, for `inside`
 * only), how the image goes into it, and the encoding. Never larger than the original.
 */
export interface ThumbSpec { width: number; height: number; fit: Fit; gravity?: Gravity; format: OutputFormat }

/** A square box the image fits inside: the thumbnail and the named variant sizes. */
export const squareSpec = (size: number, format: OutputFormat): ThumbSpec => ({ width: size, height: size, fit: 'inside', format });

/**
 * Identifies the settings a rendition was made with, so a duplicate upload can reuse it: a square
 * fitted inside reads `SIZE:FORMAT`, as recorded before other boxes existed.
 */
export function specKey({ width, height, fit, gravity, format }: ThumbSpec): string {
  if (fit === 'inside' && width === height) return `${String(width)}:${format}`;
  return `${String(width)}x${String(height)}:${fit}${fit === 'cover' ? `-${gravity ?? 'centre'}` : ''}:${format}`;
}

export async function makeThumbnail(path: string, spec: ThumbSpec, limits: DecodeLimits): Promise<Thumbnail> {
  const { width, height, fit, gravity, format } = spec;
  let pipeline = sharp(path, { limitInputPixels: limits.maxPixels, failOn: 'error', autoOrient: true })
    // libvips checks this between the tiles it computes: it stops a slow encode or a slow
    // image of many tiles, but not a decoder that reads the whole file in one go (a progressive
    // JPEG of thousands of scans). The thumbnail process is killed for those (thumbnailer.ts).
    .timeout({ seconds: limits.timeoutSeconds })
    // Lanczos-3 (sharp's default kernel) for a sharp downscale; never larger than the original.
    .resize({
      width: width > 0 ? width : undefined,
      height: height > 0 ? height : undefined,
      fit,
      position: fit === 'cover' ? gravity ?? 'centre' : undefined,
      withoutEnlargement: true,
    });
  try {
    const encoding = format === 'family' ? familyOf(await pipeline.metadata()) : format;
    // JPEG has no alpha channel: put transparent images on white rather than black.
    if (encoding === 'jpeg') pipeline = pipeline.flatten({ background: '#ffffff' });
    // Output is sRGB (sharp converts from an embedded ICC profile) and carries no metadata.
    pipeline = encode(pipeline, encoding);
    const { data, info } = await pipeline.toBuffer({ resolveWithObject: true });
    return { data, width: info.width, height: info.height, mime: formatMime(encoding) };
  } catch (err) {
    if (err instanceof Error && err.message.startsWith('timeout:')) throw new ImageTooComplex(limits.timeoutSeconds);
    // The header looked like an image but the pixels do not decode (truncated, corrupt).
    throw new NotAnImage();
  }
}

type Encoding = Exclude<OutputFormat, 'family'>;

/** The original's own kind: still GIF for a GIF (first frame only), PNG where there is alpha, else JPEG. */
function familyOf({ format, hasAlpha }: Metadata): Encoding {
  if (format === 'gif') return 'gif';
  return hasAlpha ? 'png' : 'jpeg';
}

/**
 * Encoder settings for thumbnails and variants, in one place. WebP q80 and AVIF q50 are sharp's
 * defaults, the qualities at which each is commonly compared with a q80 JPEG. AVIF at effort 2, not
 * sharp's 4: on one thread a 4 MP photo's 1600-px rendition takes 0.7 s instead of 9.4 s, for
 * 5% more bytes (and 15% fewer at 800 px). JPEG goes through mozjpeg (trellis quantisation,
 * progressive scans): smaller at the same quality, shown coarse-to-fine. Adaptive PNG filtering: a third smaller for
 * the same encoding time (lossless).
 */
function encode(pipeline: Sharp, format: Encoding): Sharp {
  switch (format) {
    case 'webp': return pipeline.webp({ quality: 80 });
    case 'avif': return pipeline.avif({ quality: 50, effort: 2 });
    case 'jpeg': return pipeline.jpeg({ quality: 80, mozjpeg: true });
    case 'png': return pipeline.png({ adaptiveFiltering: true });
    case 'gif': return pipeline.gif();
  }
}
