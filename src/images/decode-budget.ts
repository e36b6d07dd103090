// How much memory making a thumbnail of an image will take, judged from its header alone, so an
// image that would need too much is refused before any pixel is decoded. Pixels alone do not say:
// a 100-megapixel baseline JPEG is decoded a few rows at a time at 1/8 scale, but the same image
// as a progressive CMYK JPEG, an interlaced 16-bit PNG or a 12-bit AVIF must be held whole in
// the decoder, at up to 24 bytes a pixel. Only the first frame is decoded for a thumbnail.
// Figures measured with libvips 8.18 (sharp 0.35) are in docs/reliability.md.

/** What the header says, as sharp's metadata() reports it. */
export interface HeaderFacts {
  /** jpeg, png, webp, gif, avif, heic or tiff */
  format: string;
  width: number;
  /** Height of one frame. */
  frameHeight: number;
  frames: number;
  channels: number;
  /** libvips band format: uchar, ushort, float... */
  depth?: string | undefined;
  /** HEIF only: 8, 10 or 12. */
  bitsPerSample?: number | undefined;
  /** A progressive JPEG or an interlaced PNG (or GIF). */
  isProgressive?: boolean | undefined;
  hasAlpha?: boolean | undefined;
  /** JPEG only, e.g. 4:2:0 or 4:4:4:4 (CMYK). */
  chromaSubsampling?: string | undefined;
}

const bytesPerSample: Readonly<Record<string, number>> = {
  uchar: 1, char: 1, ushort: 2, short: 2, uint: 4, int: 4, float: 4, complex: 8, double: 8, dpcomplex: 16,
};

/** Rows a streaming decoder and the shrinking behind it hold at once, with room to spare. */
const streamingRows = 256;

/** Bytes the decoder of a thumbnail will hold at its peak for an image with this header. */
export function decodeBytes(facts: HeaderFacts): number {
  const pixels = facts.width * facts.frameHeight;
  const sample = facts.format === 'avif' || facts.format === 'heic'
    ? ((facts.bitsPerSample ?? 8) > 8 ? 2 : 1)
    : bytesPerSample[facts.depth ?? 'uchar'] ?? 8;
  const fullFrame = pixels * facts.channels * sample;
  const streaming = facts.width * facts.channels * sample * streamingRows;
  switch (facts.format) {
    case 'jpeg':
      // A progressive JPEG's scans refine every block, so libjpeg keeps all of its DCT
      // coefficients (2 bytes each, at each component's own resolution) until the last one.
      return facts.isProgressive ? 2 * pixels * jpegPlanes(facts) : streaming;
    case 'png':
      // Adam7 passes each cover the whole image: libpng needs it all before the first row.
      return facts.isProgressive ? fullFrame : streaming;
    case 'gif':
      // libnsgif composes each frame into an RGBA canvas; an animation keeps a second one to
      // restore to (disposal).
      return pixels * 4 * (facts.frames > 1 ? 2 : 1);
    case 'webp':
      // libwebp decodes a still image a few rows at a time at the reduced size, but its alpha
      // plane whole (1 B/px); an animation is composed on full RGBA canvases.
      if (facts.frames > 1) return pixels * 4 * 2;
      return streaming + (facts.hasAlpha === true ? pixels : 0);
    case 'avif':
    case 'heic':
      // libheif decodes the whole frame: the AV1 decoder's planes and reference frames, the
      // RGB(A) image converted from them, and libvips' copy. Measured: 5 to 5.8 times the frame
      // for 8-bit samples, 3.2 to 4 times for 10- and 12-bit ones (held in 16 bits).
      return (sample === 1 ? 6 : 4) * fullFrame;
    default:
      // TIFF: strips or tiles, but one strip may be the whole image; assume it is.
      return fullFrame;
  }
}

/** Planes of a JPEG's components, in full-resolution equivalents (4:2:0 colour is 1.5; CMYK 4). */
function jpegPlanes(facts: HeaderFacts): number {
  const [j = 0, a = NaN, b = NaN, alpha] = (facts.chromaSubsampling ?? '').split(':').map(Number);
  const planes = 1 + (a + b) / j + (alpha === undefined ? 0 : 1);
  return facts.channels >= 3 && Number.isFinite(planes) ? planes : facts.channels;
}
