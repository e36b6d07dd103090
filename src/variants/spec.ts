// Named variant sizes (--variants), the formats a variant may be asked for by extension, and the
// choice of format from a request's Accept header when no extension fixes it.
import Negotiator from 'negotiator';
import { ConfigError } from '../errors.js';
import { animates } from '../images/encode.js';
import type { OutputFormat, RenditionSpec } from '../images/rendition.js';

/** Larger boxes would only re-encode originals: max_pixels allows about 10000 x 10000. */
export const MAX_VARIANT_SIZE = 8192;
const NAME = /^[a-z][a-z0-9_-]*$/;
/** Names the image routes already use for the original and its thumbnail. */
const RESERVED = new Set(['orig', 'thumb']);

/** `--variants` as name -> longest side; throws ConfigError on anything malformed. */
export function parseVariants(value: string): ReadonlyMap<string, number> {
  const fail = (why: string): never => { throw new ConfigError(`option '--variants': ${why} (expected NAME:SIZE,... e.g. small:320,medium:800)`); };
  const sizes = new Map<string, number>();
  for (const entry of value.split(',').map((part) => part.trim()).filter((part) => part !== '')) {
    const [name = '', size = '', ...rest] = entry.split(':');
    if (rest.length > 0 || !NAME.test(name)) fail(`'${entry}' is not NAME:SIZE with a name of a-z, 0-9, _ and -`);
    if (RESERVED.has(name)) fail(`'${name}' is reserved`);
    if (sizes.has(name)) fail(`'${name}' is given twice`);
    const px = Number(size);
    if (!/^\d+$/.test(size) || px < 1 || px > MAX_VARIANT_SIZE) fail(`the size of '${name}' must be 1 to ${String(MAX_VARIANT_SIZE)} pixels`);
    sizes.set(name, px);
  }
  return sizes;
}

/** `--eager_variants` as the names of `--variants` it lists; throws ConfigError for any other. */
export function parseEagerVariants(value: string, sizes: ReadonlyMap<string, number>): string[] {
  const names = [...new Set(value.split(',').map((part) => part.trim()).filter((part) => part !== ''))];
  const unknown = names.filter((name) => !sizes.has(name));
  if (unknown.length > 0) {
    throw new ConfigError(`option '--eager_variants': ${unknown.map((name) => `'${name}'`).join(', ')} not among --variants (${[...sizes.keys()].join(', ')})`);
  }
  return names;
}

/** The extensions `/imgs/<id>/<name>.<ext>` takes, and the format each fixes. */
const extensions: Readonly<Record<string, OutputFormat>> = { webp: 'webp', avif: 'avif', jpg: 'jpeg', png: 'png', gif: 'gif' };

export function formatOfExtension(ext: string): OutputFormat | undefined {
  return Object.hasOwn(extensions, ext) ? extensions[ext] : undefined;
}

/**
 * The format for a request without an extension: AVIF when accepted (and enabled), else WebP
 * when accepted, else the original's own family ('family', decided from the pixels).
 */
export function negotiatedFormat(accept: string | undefined, avif: boolean): OutputFormat {
  const accepted = new Negotiator({ headers: { accept: accept ?? '' } }).mediaTypes(['image/avif', 'image/webp']);
  // A bare `*/*` (or `image/*`) says nothing about what the client can decode.
  const explicit = (type: string) => accepted.includes(type) && accept !== undefined && accept.toLowerCase().includes(type);
  if (avif && explicit('image/avif')) return 'avif';
  if (explicit('image/webp')) return 'webp';
  return 'family';
}

/** What a current browser sends for images: the format eager variants are made in. */
export const BROWSER_ACCEPT = 'image/avif,image/webp,*/*';

/** Whether an image is an animation: a GIF or WebP of several frames (a TIFF's pages are not). */
export const isAnimated = ({ format, frames }: { format: string; frames: number }): boolean =>
  frames > 1 && (format === 'gif' || format === 'webp');

/**
 * The spec to make for this image. An animation stays one in WebP, GIF and its family (GIF, so
 * both name one rendition); AVIF chosen from Accept gives way to what Accept would choose without
 * it (`withoutAvif`), since libvips writes AVIF still only. Asked for by extension, AVIF, JPEG and
 * PNG give its first frame.
 */
export function specFor(image: { format: string; frames: number }, { spec, negotiated, withoutAvif }: VariantRequest): RenditionSpec {
  if (!isAnimated(image)) return spec;
  const chosen = negotiated && spec.format === 'avif' ? withoutAvif ?? 'family' : spec.format;
  const format = chosen === 'family' ? 'gif' : chosen;
  return animates(format) ? { ...spec, format, animated: true } : spec;
}

/**
 * What a request asks for. `negotiated` when the format came from Accept (the answer varies by
 * it), and then `withoutAvif`: Accept's choice for an image AVIF cannot hold (an animation).
 */
export interface VariantRequest { spec: RenditionSpec; negotiated: boolean; withoutAvif?: OutputFormat }

/** A request for this box whose format Accept chooses. */
export const negotiatedRequest = (box: Omit<RenditionSpec, 'format'>, accept: string | undefined, avif: boolean): VariantRequest =>
  ({ spec: { ...box, format: negotiatedFormat(accept, avif) }, negotiated: true, withoutAvif: negotiatedFormat(accept, false) });
