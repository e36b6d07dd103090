// Test images, generated with sharp so nothing binary is committed.
import sharp, { type Sharp } from 'sharp';

/** Photograph-like content: noise over a colour, encoded at a realistic quality. */
export function photo(width: number, height: number, format: 'jpeg' | 'png' | 'webp' | 'avif' | 'tiff' | 'gif' = 'jpeg'): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: '#000000', noise: { type: 'gaussian', mean: 120, sigma: 40 } } })
    .toFormat(format, format === 'jpeg' || format === 'webp' ? { quality: 85 } : {})
    .toBuffer();
}

/** A drawn landscape (sky, sun, hills) in a given hue: pleasant in screenshots, unlike noise. */
export function scene(width: number, height: number, hue = 210): Promise<Buffer> {
  const hsl = (h: number, s: number, l: number) => `hsl(${String(h % 360)},${String(s)}%,${String(l)}%)`;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${String(width)}" height="${String(height)}" viewBox="0 0 300 200" preserveAspectRatio="none">
    <defs><linearGradient id="sky" x1="0" y1="0" x2="0" y2="1">
      <stop offset="0" stop-color="${hsl(hue, 70, 45)}"/><stop offset="1" stop-color="${hsl(hue + 40, 80, 85)}"/></linearGradient></defs>
    <rect width="300" height="200" fill="url(#sky)"/>
    <circle cx="220" cy="70" r="28" fill="${hsl(hue + 180, 90, 70)}"/>
    <path d="M0 150 Q70 90 140 140 T300 120 V200 H0Z" fill="${hsl(hue + 120, 40, 35)}"/>
    <path d="M0 175 Q90 140 180 170 T300 165 V200 H0Z" fill="${hsl(hue + 130, 45, 22)}"/></svg>`;
  return drawing(svg).jpeg({ quality: 88 }).toBuffer();
}

/**
 * Renders a test's own SVG. The server blocks every libvips loader but those of the accepted
 * formats (src/images/loaders.ts), process-wide, so this unblocks SVG from buffers in the test
 * process: tests' drawings are trusted, and the server decodes uploads from files only, whose
 * SVG loader stays blocked.
 */
export function drawing(svg: string): Sharp {
  sharp.unblock({ operation: ['VipsForeignLoadSvgBuffer'] });
  return sharp(Buffer.from(svg));
}

export function solid(width: number, height: number, color: string, format: 'jpeg' | 'png' | 'webp' | 'gif' = 'png'): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: color } }).toFormat(format).toBuffer();
}

/** A JPEG stored sideways with EXIF orientation 6: displayed as `height` x `width`. */
export function rotatedJpeg(width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: '#c04020' } })
    .jpeg().withMetadata({ orientation: 6 }).toBuffer();
}

export async function animatedGif(frames: number, width = 40, height = 30): Promise<Buffer> {
  const colours = ['#ff0000', '#00ff00', '#0000ff'];
  const images = await Promise.all(Array.from({ length: frames }, (_, i) =>
    solid(width, height, colours[i % colours.length] ?? '#000000')));
  return sharp(images, { join: { animated: true } }).gif().toBuffer();
}

export const svgWithScript = Buffer.from(
  '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><script>alert(1)</script><rect width="64" height="64"/></svg>');

/** A tiny valid PNG whose header claims `width` x `height`: a decompression bomb's header. */
export async function pngClaiming(width: number, height: number): Promise<Buffer> {
  const png = Buffer.from(await solid(1, 1, '#000000'));
  // IHDR data starts at byte 16 (8 signature + 4 length + 4 type); its CRC follows 13 bytes later.
  png.writeUInt32BE(width, 16);
  png.writeUInt32BE(height, 20);
  png.writeUInt32BE(crc32(png.subarray(12, 29)), 29);
  return png;
}

/** The CRC-32 PNG chunks carry. */
export function crc32(data: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return (crc ^ 0xffffffff) >>> 0;
}
