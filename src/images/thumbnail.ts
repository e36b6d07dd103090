// The thumbnail pipeline (sharp/libvips). sharp does its work on libuv's thread pool, so the
// event loop only waits; the pool in pool.ts bounds how many run at once.
import sharp from 'sharp';
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

export interface ThumbSpec { size: number; format: ThumbFormat }

/** Identifies the settings a thumbnail was made with, so a duplicate upload can reuse it. */
export const specKey = (spec: ThumbSpec): string => `${String(spec.size)}:${spec.format}`;

export async function makeThumbnail(path: string, { size, format }: ThumbSpec, limits: DecodeLimits): Promise<Thumbnail> {
  let pipeline = sharp(path, { limitInputPixels: limits.maxPixels, failOn: 'error', autoOrient: true })
    // libvips checks this between the tiles it computes: it stops a slow encode or a slow
    // image of many tiles, but not a decoder that reads the whole file in one go (a progressive
    // JPEG of thousands of scans). The thumbnail process is killed for those (thumbnailer.ts).
    .timeout({ seconds: limits.timeoutSeconds })
    .resize({ width: size, height: size, fit: 'inside', withoutEnlargement: true });
  // JPEG has no alpha channel: put transparent images on white rather than black.
  if (format === 'jpeg') pipeline = pipeline.flatten({ background: '#ffffff' });
  // Adaptive filtering: a third smaller PNG thumbnails for the same encoding time (lossless).
  pipeline = format === 'png' ? pipeline.png({ adaptiveFiltering: true }) : pipeline.toFormat(format);
  try {
    const { data, info } = await pipeline.toBuffer({ resolveWithObject: true });
    return { data, width: info.width, height: info.height, mime: formatMime(format) };
  } catch (err) {
    if (err instanceof Error && err.message.startsWith('timeout:')) throw new ImageTooComplex(limits.timeoutSeconds);
    // The header looked like an image but the pixels do not decode (truncated, corrupt).
    throw new NotAnImage();
  }
}
