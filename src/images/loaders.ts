// Only the decoders of the formats imghost accepts may ever see an upload's bytes. libvips picks
// a loader by sniffing the file, and it has many more (SVG through librsvg, its native VIPS
// format, PPM, Matrix, CSV, Radiance, Analyze...): each is code that would parse untrusted bytes
// for a format that is refused anyway. Blocking them means the sniffing skips them, so a file in
// such a format is simply not recognised as an image.
import sharp from 'sharp';
import { formats } from './formats.js';

/** libvips loader class names of the accepted formats. */
const allowedLoaders = formats
  .flatMap(({ loader }) => ['File', 'Buffer', 'Source'].map((input) => `VipsForeignLoad${loader}${input}`));

/** Every loader but the accepted formats': process-wide, for all sharp calls that follow. */
export function blockUnacceptedLoaders(): void {
  sharp.block({ operation: ['VipsForeignLoad'] });
  sharp.unblock({ operation: allowedLoaders });
}

blockUnacceptedLoaders();

// Formats a client might send whose loaders are blocked, recognised by their first bytes only,
// so that the refusal can name them (415) rather than call them no image at all (400).
const signatures: readonly (readonly [RegExp, string])[] = [
  // An XML declaration, comments or a doctype may come before the root element.
  [/^(?:\xef\xbb\xbf)?\s*(?:<[?!][^]*?)?<svg[\s>]/, 'SVG'],
  [/^P[1-7]\s/, 'PPM'],
  [/^%PDF-/, 'PDF'],
  [/^SIMPLE {2}=/, 'FITS'],
  [/^#\?RADIANCE/, 'Radiance'],
];

/** libvips' own format, in either byte order. */
const vipsMagic = ['08f2a6b6', 'b6a6f208'];

/** The name of a refused format `head` (the file's first bytes) starts like, if any. */
export function refusedFormat(head: Buffer): string | undefined {
  if (vipsMagic.includes(head.subarray(0, 4).toString('hex'))) return 'VIPS';
  const text = head.toString('latin1');
  return signatures.find(([pattern]) => pattern.test(text))?.[1];
}
