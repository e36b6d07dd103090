// How an image is named under its thumbnail: its file name, then its format and size, so two
// uploads of the same picture, or two pictures of the same name, can be told apart at a glance.
import { formatBytes } from '../bytes.js';
import { acceptedFormat } from '../images/formats.js';
import { altText } from '../share.js';
import type { ImageJson } from './present.js';

export interface Caption {
  /** The file name without bidi controls, or `image <id>` for an upload that came without one. */
  name: string;
  /** "JPEG · 2.1 MiB" */
  details: string;
}

export function caption(image: Pick<ImageJson, 'id' | 'name' | 'format' | 'bytes'>): Caption {
  const format = acceptedFormat(image.format)?.label ?? image.format.toUpperCase();
  return { name: altText(image), details: `${format} · ${formatBytes(image.bytes)}` };
}
