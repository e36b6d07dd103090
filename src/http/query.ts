// Query-string values shared by the API and the pages.
import { BadRequest } from '../errors.js';

/** A positive integer parameter, or the fallback when it is absent or empty. */
export function parseCount(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  if (!/^\d{1,15}$/.test(value) || Number(value) < 1) throw new BadRequest(`'${name}' must be a positive integer`);
  return Number(value);
}

/** The cursor of the page after `images`, or null when this page is the last. */
export function nextCursor(images: readonly { seq: number }[], limit: number): string | null {
  const last = images.at(-1);
  return last && images.length === limit ? String(last.seq) : null;
}
