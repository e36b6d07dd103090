// Many different images from one encoded file, without encoding again: a few bytes that change
// the decoded pixels are rewritten in place (a quantisation step, a palette colour). Metadata
// would not do, since the server strips it; these survive stripping, so every variant is a
// distinct stored image. Costs a copy of the file, so a soak can make thousands cheaply.
import { crc32 } from './images.js';

const DQT = 0xffdb;
const SOS = 0xffda;

/**
 * The JPEG with the first two steps (DC and the first AC) of its first quantisation table set
 * from `n`: every block decodes differently. Distinct for n below 255 x 255.
 */
export function jpegPixelVariant(jpeg: Buffer, n: number): Buffer {
  const out = Buffer.from(jpeg);
  for (let at = 2; at + 4 <= out.length;) {
    const marker = out.readUInt16BE(at);
    if (marker === SOS) break;
    if (marker === DQT) {
      // Segment: marker, length, then Pq/Tq (high nibble 0: 8-bit steps) and 64 steps in zigzag order.
      if ((out[at + 4] ?? 0xff) >> 4 !== 0) break;
      out[at + 5] = 1 + (n % 255);
      out[at + 6] = 1 + (Math.floor(n / 255) % 255);
      return out;
    }
    at += 2 + out.readUInt16BE(at + 2);
  }
  throw new Error('no 8-bit quantisation table before the first scan');
}

/** The palette PNG with palette entry 0 set to the colour `n` (24 bits), its CRC recomputed. */
export function pngPixelVariant(png: Buffer, n: number): Buffer {
  const out = Buffer.from(png);
  for (let at = 8; at + 12 <= out.length;) {
    const length = out.readUInt32BE(at);
    if (out.toString('latin1', at + 4, at + 8) === 'PLTE') {
      out.writeUIntBE(n & 0xffffff, at + 8, 3);
      out.writeUInt32BE(crc32(out.subarray(at + 4, at + 8 + length)), at + 8 + length);
      return out;
    }
    at += 12 + length;
  }
  throw new Error('no PLTE chunk: encode the PNG with a palette');
}

/** The GIF with entry 0 of its global colour table set to the colour `n` (24 bits). */
export function gifPixelVariant(gif: Buffer, n: number): Buffer {
  // The logical screen descriptor's packed byte (offset 10) says whether a global table follows it.
  if (((gif[10] ?? 0) & 0x80) === 0) throw new Error('no global colour table');
  const out = Buffer.from(gif);
  out.writeUIntBE(n & 0xffffff, 13, 3);
  return out;
}
