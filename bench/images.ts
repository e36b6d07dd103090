// Benchmark images, generated at benchmark time and never committed: photograph-like content
// (a sky-to-ground gradient, soft shapes, sensor-like noise) encoded at realistic quality, so
// decoders and encoders work as hard as on real photos; each carries some EXIF, as camera files
// do. Every upload must be a different file, or imghost's deduplication would skip the thumbnail.
import sharp from 'sharp';
import { pngChunk } from '../src/images/strip/png.js';

export interface ImageClass {
  /** Names the class in the output, e.g. jpeg-2560x1600. */
  name: string;
  width: number;
  height: number;
  format: 'jpeg' | 'png' | 'webp';
  mime: string;
}

export const imageClasses: readonly ImageClass[] = [
  { name: 'jpeg-2560x1600', width: 2560, height: 1600, format: 'jpeg', mime: 'image/jpeg' },
  { name: 'jpeg-5120x2880', width: 5120, height: 2880, format: 'jpeg', mime: 'image/jpeg' },
  { name: 'png-3840x2160', width: 3840, height: 2160, format: 'png', mime: 'image/png' },
  { name: 'webp-4096x2560', width: 4096, height: 2560, format: 'webp', mime: 'image/webp' },
];

function scene(width: number, height: number, seed: number): Buffer {
  let state = seed;
  const random = (): number => { state = (state * 1103515245 + 12345) % 2147483648; return state / 2147483648; };
  const shapes = Array.from({ length: 40 }, () => {
    const [x, y, r] = [random() * width, random() * height, (0.02 + random() * 0.15) * width];
    const hue = Math.floor(random() * 360);
    return `<ellipse cx="${x.toFixed(0)}" cy="${y.toFixed(0)}" rx="${r.toFixed(0)}" ry="${(r * (0.4 + random())).toFixed(0)}" fill="hsl(${hue},${(30 + random() * 50).toFixed(0)}%,${(25 + random() * 50).toFixed(0)}%)" opacity="${(0.3 + random() * 0.6).toFixed(2)}"/>`;
  }).join('');
  return Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
    <defs><linearGradient id="sky" x1="0" y1="0" x2="0.3" y2="1">
      <stop offset="0" stop-color="#5b8fd6"/><stop offset="0.55" stop-color="#e8d9b0"/><stop offset="1" stop-color="#3d5a2a"/>
    </linearGradient></defs><rect width="100%" height="100%" fill="url(#sky)"/>${shapes}</svg>`);
}

/** One image of the class, with camera-like EXIF. */
export async function template(cls: ImageClass, seed = 1): Promise<Buffer> {
  // Drawn small and enlarged: fast, and the enlargement softens edges as a lens would.
  const small = { width: Math.ceil(cls.width / 8), height: Math.ceil(cls.height / 8) };
  // Rasterised before the resize: libvips would otherwise render the SVG again for every tile.
  // imghost blocks SVG in-process (src/images/loaders.ts); this drawing is the benchmark's own.
  sharp.unblock({ operation: ['VipsForeignLoadSvgBuffer'] });
  const drawn = await sharp(scene(small.width, small.height, seed)).removeAlpha().raw().toBuffer();
  const base = await sharp(drawn, { raw: { ...small, channels: 3 } })
    .resize(cls.width, cls.height, { fit: 'fill', kernel: 'cubic' }).raw().toBuffer();
  // Sensor-like grain, from a cheap generator: libvips' gaussian noise takes seconds at 5K.
  let state = seed | 1;
  for (let i = 0; i < base.length; i++) {
    // xorshift32 kept in int32 arithmetic, so the loop stays fast at 44 million bytes.
    state ^= state << 13; state ^= state >>> 17; state ^= state << 5;
    const value = (base[i] ?? 0) + (((state & 0xff) + ((state >>> 8) & 0xff) - 255) >> 3);
    base[i] = value < 0 ? 0 : value > 255 ? 255 : value;
  }
  const image = sharp(base, { raw: { width: cls.width, height: cls.height, channels: 3 } })
    .withExif({ IFD0: { Make: 'imghost', Model: 'bench camera', ImageDescription: 'benchmark scene' } });
  if (cls.format === 'jpeg') return image.jpeg({ quality: 85 }).toBuffer();
  if (cls.format === 'webp') return image.webp({ quality: 80 }).toBuffer();
  return image.png().toBuffer();
}

/**
 * A copy of `templ` that differs from every other copy number, in a part imghost keeps when it
 * strips metadata (EXIF would not do: it is removed before the file is hashed and deduplicated).
 * JPEG: the last entries of the first quantisation table; PNG: a private ancillary chunk; WebP:
 * an unknown chunk of the extended (VP8X) container, which the template's EXIF made it use.
 */
export function uniqueCopy(templ: Buffer, n: number): Buffer {
  const counter = Buffer.alloc(4);
  counter.writeUInt32BE(n);
  if (templ[0] === 0xff && templ[1] === 0xd8) return withQuantisationMark(templ, n);
  if (templ.toString('latin1', 1, 4) === 'PNG') {
    const afterHeader = 8 + 25; // signature, then IHDR: length, type, 13 bytes, CRC
    return Buffer.concat([templ.subarray(0, afterHeader), pngChunk('bnCh', counter), templ.subarray(afterHeader)]);
  }
  const chunk = Buffer.concat([Buffer.from('BNCH', 'latin1'), Buffer.from([4, 0, 0, 0]), counter]);
  const copy = Buffer.concat([templ, chunk]);
  copy.writeUInt32LE(copy.length - 8, 4);
  return copy;
}

/** Writes `n` into the last four (highest-frequency) entries of the first 8-bit DQT table. */
function withQuantisationMark(jpeg: Buffer, n: number): Buffer {
  const copy = Buffer.from(jpeg);
  let pos = 2;
  while (pos + 4 <= copy.length && copy[pos] === 0xff) {
    const marker = copy[pos + 1] ?? 0;
    const length = copy.readUInt16BE(pos + 2);
    if (marker === 0xdb) {
      const table = pos + 5; // after the marker, the length and the precision/id byte
      // Base-250 digits kept within 1..250: a quantiser of 0 would be invalid.
      for (let digit = 0, rest = n; digit < 4; digit++, rest = Math.floor(rest / 250)) copy[table + 63 - digit] = 1 + (rest % 250);
      return copy;
    }
    pos += 2 + length;
  }
  throw new Error('the JPEG template has no quantisation table');
}
