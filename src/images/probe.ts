// Identifies an upload from its header alone: format and dimensions, without decoding pixels,
// so a decompression bomb is refused before it can take any memory.
import sharp, { type Metadata } from 'sharp';
import { NotAnImage, TooManyPixels, UnsupportedFormat } from '../errors.js';

export interface Probe {
  /** jpeg, png, webp, gif, avif or tiff */
  format: string;
  mime: string;
  /** Displayed size: EXIF orientation applied. */
  width: number;
  height: number;
  frames: number;
}

const accepted: Readonly<Record<string, string>> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  gif: 'image/gif',
  avif: 'image/avif',
  tiff: 'image/tiff',
};

/** The type of a stored image file from its header, or undefined when it is not one we accept. */
export async function mimeOf(path: string): Promise<string | undefined> {
  try {
    const meta = await sharp(path, { limitInputPixels: false }).metadata();
    return accepted[meta.format === 'heif' && meta.compression === 'av1' ? 'avif' : meta.format];
  } catch {
    return undefined;
  }
}

export async function probe(path: string, maxPixels: number): Promise<Probe> {
  let meta: Metadata;
  try {
    meta = await sharp(path, { limitInputPixels: false }).metadata();
  } catch {
    throw new NotAnImage();
  }
  // libvips reads AVIF and HEIC through the same HEIF loader; only AV1-coded HEIF is AVIF.
  const format = meta.format === 'heif' ? (meta.compression === 'av1' ? 'avif' : 'heic') : meta.format;
  const mime = accepted[format];
  if (mime === undefined) throw new UnsupportedFormat(format.toUpperCase());
  const frames = meta.pages ?? 1;
  const frameHeight = meta.pageHeight ?? meta.height;
  if (!(meta.width > 0 && frameHeight > 0)) throw new NotAnImage();
  if (meta.width * frameHeight * frames > maxPixels) {
    throw new TooManyPixels(meta.width, frameHeight, frames, maxPixels);
  }
  const { width, height } = meta.autoOrient;
  return { format, mime, width, height, frames };
}
