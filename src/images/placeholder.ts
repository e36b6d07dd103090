// Placeholders: a ThumbHash (about 25 bytes, base64 in the JSON) of each image, made from its
// thumbnail at upload, that a page paints where the image goes until the image itself arrives.
// Made from the thumbnail, not the original, so it costs a decode of a few kilobytes.
import sharp from 'sharp';
import { rgbaToThumbHash, thumbHashToRGBA } from 'thumbhash';
import './loaders.js';

/**
 * The box the encoder reads. ThumbHash keeps at most 7 frequencies a side, which 32 pixels
 * carry as well as its maximum of 100: the hash of a photo's thumbnail came out the same but for
 * a rounding in one byte, at a tenth of the encoder's time (0.06 against 0.6 ms).
 */
const ENCODER_BOX = 32;
/** ThumbHashes are at most 25 bytes; a stored value much longer is not one. */
const MAX_HASH_CHARS = 64;

/**
 * The ThumbHash of an image's thumbnail (its encoded bytes), base64; null when the bytes cannot
 * be read. Never throws: an upload does not fail for want of a placeholder.
 */
export async function makePlaceholder(thumbnail: Buffer): Promise<string | null> {
  try {
    const { data, info } = await sharp(thumbnail, { failOn: 'error' })
      .resize(ENCODER_BOX, ENCODER_BOX, { fit: 'inside', withoutEnlargement: true })
      // Grey and paletted thumbnails too become four channels, as the encoder reads them.
      .toColourspace('srgb').ensureAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 4) return null;
    return Buffer.from(rgbaToThumbHash(info.width, info.height, data)).toString('base64');
  } catch {
    return null;
  }
}

/**
 * A ThumbHash rendered as a tiny image (32 px on its longest side) in a `data:` URL, WebP: about
 * 250 characters, where ThumbHash's own uncompressed PNG takes 4 kB. Null for a value that is no
 * ThumbHash.
 */
export async function placeholderDataUrl(placeholder: string): Promise<string | null> {
  if (placeholder.length > MAX_HASH_CHARS || !/^[A-Za-z0-9+/]+={0,2}$/.test(placeholder)) return null;
  try {
    const { w, h, rgba } = thumbHashToRGBA(Buffer.from(placeholder, 'base64'));
    const webp = await sharp(rgba, { raw: { width: w, height: h, channels: 4 } }).webp({ quality: 80 }).toBuffer();
    return `data:image/webp;base64,${webp.toString('base64')}`;
  } catch {
    return null;
  }
}
