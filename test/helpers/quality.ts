// Image quality for tests: PSNR between two renditions' pixels, decoded to 8-bit sRGB, and a
// photograph-like test image whose detail a bad resize, a blur or a shift would visibly lose.
import sharp, { type Sharp } from 'sharp';
import { drawing } from './images.js';

/** Decoded pixels: 8-bit sRGB, three channels, row by row. */
export interface Pixels { data: Buffer; width: number; height: number }

/** Decodes an encoded image (or a sharp pipeline) to 8-bit sRGB pixels, alpha dropped. */
export async function srgbPixels(image: Buffer | Sharp): Promise<Pixels> {
  const pipeline = Buffer.isBuffer(image) ? sharp(image) : image;
  const { data, info } = await pipeline.toColourspace('srgb').removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/**
 * Peak signal-to-noise ratio in dB over every channel of every pixel: 10·log10(255² / MSE).
 * About 30 dB is a visibly lossy copy, above 40 dB hard to tell apart; Infinity when identical.
 */
export function psnr(a: Pixels, b: Pixels): number {
  if (a.width !== b.width || a.height !== b.height || a.data.length !== b.data.length) {
    throw new Error(`different sizes: ${String(a.width)}x${String(a.height)} and ${String(b.width)}x${String(b.height)}`);
  }
  let squares = 0;
  for (let i = 0; i < a.data.length; i++) {
    const d = (a.data[i] ?? 0) - (b.data[i] ?? 0);
    squares += d * d;
  }
  const mse = squares / a.data.length;
  return mse === 0 ? Infinity : 10 * Math.log10((255 * 255) / mse);
}

/**
 * The means of `block` x `block` squares (the edges' partial squares dropped): the colours at a
 * coarse scale, where an encoder's fine-grained loss averages out and a colour shift remains.
 */
export function blockMeans(p: Pixels, block = 8): Pixels {
  const width = Math.floor(p.width / block);
  const height = Math.floor(p.height / block);
  const sums = new Float64Array(width * height * 3);
  for (let y = 0; y < height * block; y++) {
    for (let x = 0; x < width * block; x++) {
      const to = (Math.floor(y / block) * width + Math.floor(x / block)) * 3;
      const from = (y * p.width + x) * 3;
      for (let c = 0; c < 3; c++) sums[to + c] = (sums[to + c] ?? 0) + (p.data[from + c] ?? 0);
    }
  }
  return { data: Buffer.from(sums.map((sum) => Math.round(sum / (block * block)))), width, height };
}

/**
 * A landscape with texture: smooth sky and hills under fractal noise (SVG feTurbulence), with
 * edges and fine detail at every scale as in a photograph, encoded as a high-quality JPEG.
 */
export function texturedScene(width: number, height: number): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${String(width)}" height="${String(height)}" viewBox="0 0 600 400" preserveAspectRatio="none">
    <defs>
      <linearGradient id="sky" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#2a5db0"/><stop offset="1" stop-color="#f0c27a"/></linearGradient>
      <filter id="grain" x="0" y="0" width="100%" height="100%">
        <feTurbulence type="fractalNoise" baseFrequency="0.9" numOctaves="4" seed="7"/>
        <feColorMatrix values="0 0 0 0 0.5  0 0 0 0 0.45  0 0 0 0 0.4  0 0 0 0.55 0"/>
      </filter>
    </defs>
    <rect width="600" height="400" fill="url(#sky)"/>
    <circle cx="440" cy="120" r="50" fill="#ffe08a"/>
    <path d="M0 290 Q140 170 280 270 T600 230 V400 H0Z" fill="#3f7a3a"/>
    <path d="M0 340 Q180 270 360 330 T600 320 V400 H0Z" fill="#24502a"/>
    <g stroke="#1b2f1b" stroke-width="3">${Array.from({ length: 24 }, (_, i) =>
      `<line x1="${String(20 + i * 24)}" y1="400" x2="${String(26 + i * 24)}" y2="${String(300 + (i * 37) % 60)}"/>`).join('')}</g>
    <rect width="600" height="400" filter="url(#grain)"/></svg>`;
  return drawing(svg).jpeg({ quality: 92 }).toBuffer();
}
