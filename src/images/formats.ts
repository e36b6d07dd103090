// The image formats imghost accepts, in one table: how each is named to libvips, to browsers and
// to people, and which may be thumbnails. Everything that lists formats (the probe, the allowed
// decoders, the thumbnail encoder, error messages, the upload page) reads it from here.

export interface ImageFormat {
  /** sharp's name for the format (probe.ts tells AVIF apart from other HEIF). */
  readonly name: string;
  /** How people call it, in messages and on the upload page. */
  readonly label: string;
  readonly mime: string;
  /** The libvips loader that decodes it, without its File/Buffer/Source suffix (loaders.ts). */
  readonly loader: string;
  /** May be a thumbnail's encoding: every current browser shows it. */
  readonly thumbnail: boolean;
}

export const formats = [
  { name: 'jpeg', label: 'JPEG', mime: 'image/jpeg', loader: 'Jpeg', thumbnail: true },
  { name: 'png', label: 'PNG', mime: 'image/png', loader: 'Png', thumbnail: true },
  { name: 'webp', label: 'WebP', mime: 'image/webp', loader: 'Webp', thumbnail: true },
  // libvips reads GIF with libnsgif, and AVIF through libheif's HEIF loader.
  { name: 'gif', label: 'GIF', mime: 'image/gif', loader: 'Nsgif', thumbnail: false },
  { name: 'avif', label: 'AVIF', mime: 'image/avif', loader: 'Heif', thumbnail: true },
  { name: 'tiff', label: 'TIFF', mime: 'image/tiff', loader: 'Tiff', thumbnail: false },
] as const satisfies readonly ImageFormat[];

/** `thumb_format` values: the encodings a thumbnail may be stored in. */
export type ThumbFormat = Extract<(typeof formats)[number], { thumbnail: true }>['name'];
export const thumbFormats: readonly ThumbFormat[] = formats.filter((format) => format.thumbnail).map((format) => format.name);

type FormatName = (typeof formats)[number]['name'];
const mimes = Object.fromEntries(formats.map((format) => [format.name, format.mime])) as Record<FormatName, string>;

export const formatMime = (name: FormatName): string => mimes[name];

/** The accepted format of this name, if it is one. */
export function acceptedFormat(name: string): ImageFormat | undefined {
  return formats.find((format) => format.name === name);
}

const labels = formats.map((format) => format.label);
/** "JPEG, PNG, WebP, GIF, AVIF or TIFF": the accepted formats, for people. */
export const formatLabels = `${labels.slice(0, -1).join(', ')} or ${labels.slice(-1).join('')}`;

/** What the upload page needs to check a file before sending it: the types, and their names. */
export const uploadTypes = { mimes: formats.map((format) => format.mime).join(','), labels: formatLabels };
