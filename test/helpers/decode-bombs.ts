// Images that are cheap to send and expensive to decode, generated with sharp and patched by
// hand so nothing binary is committed: a JPEG of thousands of scans (time), and headers that
// claim a large frame in a costly mode (memory). The headers are refused before decoding, so a
// small image with its dimensions rewritten stands for the real, slow-to-make bomb.
import sharp from 'sharp';
import { crc32 } from './images.js';

interface Segment { marker: number; start: number; end: number }

/** A JPEG's segments in order: each marker with its payload, and a scan with its entropy-coded data. */
function segments(jpeg: Buffer): Segment[] {
  const found: Segment[] = [];
  let at = 2;
  while (at < jpeg.length) {
    const marker = jpeg[at + 1] ?? 0;
    if (marker === 0xd9) break;
    let end = at + 2 + jpeg.readUInt16BE(at + 2);
    // Entropy-coded data runs to the next marker that is neither a stuffed 0xff nor a restart.
    if (marker === 0xda) {
      while (!(jpeg[end] === 0xff && jpeg[end + 1] !== 0 && !((jpeg[end + 1] ?? 0) >= 0xd0 && (jpeg[end + 1] ?? 0) <= 0xd7))) end++;
    }
    found.push({ marker, start: at, end });
    at = end;
  }
  return found;
}

/**
 * A valid progressive JPEG of `scans` extra scans: each resends the first AC band of the luma at
 * full precision (Ah = Al = 0), which libjpeg accepts as a consistent progression and which makes
 * it walk every block of the image again. A grey image has no AC coefficients, so each scan is
 * a few end-of-band runs: 36 bytes each, whatever the image size.
 */
export async function manyScanJpeg(width: number, height: number, scans: number): Promise<Buffer> {
  const jpeg = await sharp({ create: { width, height, channels: 3, background: '#808080' } })
    .jpeg({ progressive: true, quality: 90 }).toBuffer();
  const parts = segments(jpeg);
  // The first AC scan of one component, and the Huffman tables written just before it.
  const scan = parts.findIndex((s) => s.marker === 0xda && jpeg[s.start + 4] === 1 && (jpeg[s.start + 9] ?? 0) >> 4 === 0);
  let tables = scan;
  while (parts[tables - 1]?.marker === 0xc4) tables--;
  const first = parts[tables];
  const sos = parts[scan];
  const last = parts.at(-1);
  if (first === undefined || sos === undefined || last === undefined) throw new Error('no AC scan to repeat');
  const unit = Buffer.from(jpeg.subarray(first.start, sos.end));
  unit[sos.start - first.start + 9] = 0; // Ah = Al = 0: successive approximation off
  return Buffer.concat([jpeg.subarray(0, last.end), ...Array<Buffer>(scans).fill(unit), Buffer.from([0xff, 0xd9])]);
}

/** A small 16-bit RGBA Adam7-interlaced PNG whose header claims `width` x `height`. */
export async function interlacedPng16Claiming(width: number, height: number): Promise<Buffer> {
  const png = Buffer.from(await sharp({ create: { width: 8, height: 8, channels: 4, background: { r: 9, g: 99, b: 199, alpha: 0.5 } } })
    .toColourspace('rgb16').png({ progressive: true }).toBuffer());
  png.writeUInt32BE(width, 16);
  png.writeUInt32BE(height, 20);
  png.writeUInt32BE(crc32(png.subarray(12, 29)), 29);
  return png;
}

/** A small progressive CMYK JPEG whose frame header claims `width` x `height`. */
export async function progressiveCmykJpegClaiming(width: number, height: number): Promise<Buffer> {
  const jpeg = Buffer.from(await sharp({ create: { width: 16, height: 16, channels: 3, background: '#3070a0' } })
    .toColourspace('cmyk').jpeg({ progressive: true }).toBuffer());
  const frame = segments(jpeg).find((s) => s.marker === 0xc2);
  if (!frame) throw new Error('no progressive frame header');
  jpeg.writeUInt16BE(height, frame.start + 5);
  jpeg.writeUInt16BE(width, frame.start + 7);
  return jpeg;
}

/** A small GIF whose screen and only frame claim `width` x `height`. */
export async function gifClaiming(width: number, height: number): Promise<Buffer> {
  const gif = Buffer.from(await sharp({ create: { width: 8, height: 8, channels: 3, background: '#c03020' } }).gif().toBuffer());
  gif.writeUInt16LE(width, 6);
  gif.writeUInt16LE(height, 8);
  const descriptor = gif.indexOf(0x2c, 13 + (gif[10] !== undefined && gif[10] & 0x80 ? 3 << ((gif[10] & 7) + 1) : 0));
  gif.writeUInt16LE(width, descriptor + 5);
  gif.writeUInt16LE(height, descriptor + 7);
  return gif;
}

/** A small AVIF (12-bit with alpha when `deep`) whose 'ispe' boxes claim `width` x `height`. */
export async function avifClaiming(width: number, height: number, deep: boolean): Promise<Buffer> {
  const avif = Buffer.from(await sharp({ create: { width: 16, height: 16, channels: deep ? 4 : 3, background: { r: 40, g: 120, b: 200, alpha: 0.5 } } })
    .avif({ bitdepth: deep ? 12 : 8, effort: 0 }).toBuffer());
  // Each image item (colour, alpha) has its own spatial extent: 'ispe', version/flags, width, height.
  for (let at = avif.indexOf('ispe'); at !== -1; at = avif.indexOf('ispe', at + 4)) {
    avif.writeUInt32BE(width, at + 8);
    avif.writeUInt32BE(height, at + 12);
  }
  return avif;
}

/** A TIFF of `pages` chained directories of no entries: all structure, no image. */
export function manyPageTiff(pages: number, order: 'II' | 'MM'): Buffer {
  const data = Buffer.alloc(8 + pages * 6);
  const u16 = (value: number, at: number) => order === 'II' ? data.writeUInt16LE(value, at) : data.writeUInt16BE(value, at);
  const u32 = (value: number, at: number) => order === 'II' ? data.writeUInt32LE(value, at) : data.writeUInt32BE(value, at);
  data.write(order, 0, 'latin1');
  u16(42, 2);
  u32(8, 4);
  for (let page = 0, at = 8; page < pages; page++, at += 6) {
    u16(0, at);
    u32(page === pages - 1 ? 0 : at + 6, at + 2);
  }
  return data;
}
