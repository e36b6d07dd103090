// Identifies an upload from its header alone: format and dimensions, without decoding pixels,
// so a decompression bomb, or an image that would take too much memory or time to decode, is
// refused before it can take any (a progressive JPEG's scans are counted from its bytes).
import { open } from 'node:fs/promises';
import sharp, { type Metadata } from 'sharp';
import type { Config } from '../config/options.js';
import { NotAnImage, OverDecodeBudget, TooManyFrames, TooManyPixels, TooManyScans, UnsupportedFormat } from '../errors.js';
import { decodeBytes } from './decode-budget.js';
import { acceptedFormat } from './formats.js';
import { countScans } from './jpeg-scans.js';
import { refusedFormat } from './loaders.js';
import { countParts, partsFormat } from './parts.js';

export interface Probe {
  /** An accepted format's name (formats.ts). */
  format: string;
  mime: string;
  /** Displayed size: EXIF orientation applied. */
  width: number;
  height: number;
  frames: number;
}

/** What an upload may cost to decode: checked from its header here, enforced while decoding. */
export interface DecodeLimits {
  maxPixels: number;
  /** Bytes; see decode-budget.ts. */
  decodeBudget: number;
  /** Seconds a thumbnail may take. */
  timeoutSeconds: number;
  /** Scans a progressive JPEG may have: each costs libjpeg a pass over every block. */
  maxJpegScans: number;
  /** Frames (and as many other parts) a GIF or WebP may have: libvips keeps a record of each. */
  maxFrames: number;
}

/** The decode limits the options set. */
export const decodeLimits = (config: Pick<Config, 'max_pixels' | 'decode_budget' | 'thumb_timeout' | 'max_jpeg_scans' | 'max_frames'>): DecodeLimits => ({
  maxPixels: config.max_pixels,
  decodeBudget: config.decode_budget,
  timeoutSeconds: config.thumb_timeout,
  maxJpegScans: config.max_jpeg_scans,
  maxFrames: config.max_frames,
});

/** The type of a stored image file from its header, or undefined when it is not one we accept. */
export async function mimeOf(path: string): Promise<string | undefined> {
  try {
    const meta = await sharp(path, { limitInputPixels: false }).metadata();
    return acceptedFormat(meta.format === 'heif' && meta.compression === 'av1' ? 'avif' : meta.format)?.mime;
  } catch {
    return undefined;
  }
}

export async function probe(path: string, limits: DecodeLimits): Promise<Probe> {
  await assertFewParts(path, limits.maxFrames);
  let meta: Metadata;
  try {
    meta = await sharp(path, { limitInputPixels: false }).metadata();
  } catch {
    // Formats whose loaders are blocked (loaders.ts) are not recognised: name them if we can.
    const format = refusedFormat(await head(path));
    throw format === undefined ? new NotAnImage() : new UnsupportedFormat(format);
  }
  // libvips reads AVIF and HEIC through the same HEIF loader; only AV1-coded HEIF is AVIF.
  const format = meta.format === 'heif' ? (meta.compression === 'av1' ? 'avif' : 'heic') : meta.format;
  const mime = acceptedFormat(format)?.mime;
  if (mime === undefined) throw new UnsupportedFormat(format.toUpperCase());
  const frames = meta.pages ?? 1;
  const frameHeight = meta.pageHeight ?? meta.height;
  if (!(meta.width > 0 && frameHeight > 0)) throw new NotAnImage();
  if (meta.width * frameHeight * frames > limits.maxPixels) {
    throw new TooManyPixels(meta.width, frameHeight, frames, limits.maxPixels);
  }
  const need = decodeBytes({ ...meta, format, frameHeight, frames });
  if (need > limits.decodeBudget) throw new OverDecodeBudget(limits.decodeBudget, need);
  if (format === 'jpeg' && meta.isProgressive && await countScans(path, limits.maxJpegScans) > limits.maxJpegScans) {
    throw new TooManyScans(limits.maxJpegScans);
  }
  const { width, height } = meta.autoOrient;
  return { format, mime, width, height, frames };
}

/** Parts besides one per frame (a frame's timing block, say): the loop, the palette, metadata. */
export const OTHER_PARTS = 64;

/** Refuses a GIF or WebP of too many parts before libvips reads its header (parts.ts). */
async function assertFewParts(path: string, maxFrames: number): Promise<void> {
  const format = partsFormat(await head(path));
  if (format === null) return;
  const { frames, others } = await countParts(path, format, maxFrames + OTHER_PARTS);
  if (frames > maxFrames || others > maxFrames + OTHER_PARTS) throw new TooManyFrames(format.toUpperCase(), maxFrames);
}

/** The first bytes of a file, enough to recognise a format by. */
async function head(path: string): Promise<Buffer> {
  const file = await open(path);
  try {
    const { buffer, bytesRead } = await file.read({ buffer: Buffer.alloc(4096), position: 0 });
    return buffer.subarray(0, bytesRead);
  } finally {
    await file.close();
  }
}
