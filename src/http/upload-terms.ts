// What an uploader may ask of an image besides its bytes: `unlisted` (left out of the public
// listing), `expires_in` (gone after that long) and `max_views` (gone after that many GETs of the
// original). Form fields of a multipart upload, query parameters of any upload; an empty value is
// the same as none, as a form sends an empty select or number field.
import { BadRequest } from '../errors.js';
import type { ImageTerms } from '../repo/index.js';

export const TERM_FIELDS = ['unlisted', 'expires_in', 'max_views'] as const;
export type TermField = (typeof TERM_FIELDS)[number];

export type Visibility = Pick<ImageTerms, 'unlisted' | 'expiresAt' | 'maxViews'>;

export const isTermField = (name: string): name is TermField => (TERM_FIELDS as readonly string[]).includes(name);

const UNIT_SECONDS: Readonly<Record<string, number>> = { '': 1, s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };
/** Ten years: far enough for any use, near enough that every date store holds it. */
export const MAX_EXPIRES_IN = 3650 * 86_400;
/** A billion: within the 32-bit column that holds it. */
export const MAX_VIEWS = 1_000_000_000;

/** A value as an error message quotes it: a long one cut short. */
const quoted = (value: string): string => `'${value.length > 40 ? `${value.slice(0, 40)}…` : value}'`;

const YES = new Set(['true', '1', 'on', 'yes']);
const NO = new Set(['false', '0', 'off', 'no']);

/**
 * The terms given in `fields` (values as sent, unknown names ignored), at time `now`; those not
 * given are left out, for the server's defaults. Throws BadRequest naming a bad value.
 */
export function parseUploadTerms(fields: Readonly<Partial<Record<string, string>>>, now: Date): Partial<Visibility> {
  const given = (name: TermField): string | undefined => {
    const value = fields[name]?.trim();
    return value === '' ? undefined : value;
  };
  const unlisted = given('unlisted'), expiresIn = given('expires_in'), maxViews = given('max_views');
  return {
    ...(unlisted === undefined ? {} : { unlisted: parseFlag(unlisted) }),
    ...(expiresIn === undefined ? {} : { expiresAt: new Date(now.getTime() + parseDuration(expiresIn) * 1000) }),
    ...(maxViews === undefined ? {} : { maxViews: parseViews(maxViews) }),
  };
}

function parseFlag(value: string): boolean {
  const lower = value.toLowerCase();
  if (YES.has(lower)) return true;
  if (NO.has(lower)) return false;
  throw new BadRequest(`'unlisted' must be true, 1 or on (or false, 0 or off), not ${quoted(value)}`);
}

/** Seconds: a whole number, alone or followed by s, m, h, d or w. */
export function parseDuration(value: string): number {
  const match = /^(\d{1,12})\s*([smhdw]?)$/i.exec(value);
  const seconds = match ? Number(match[1]) * (UNIT_SECONDS[(match[2] ?? '').toLowerCase()] ?? 1) : NaN;
  if (!(seconds >= 1 && seconds <= MAX_EXPIRES_IN)) {
    throw new BadRequest(`'expires_in' must be a number of seconds, or a number followed by s, m, h, d or w (90, 30m, 1h, 7d), from 1 second to 3650 days, not ${quoted(value)}`);
  }
  return seconds;
}

function parseViews(value: string): number {
  const views = /^\d{1,10}$/.test(value) ? Number(value) : NaN;
  if (!(views >= 1 && views <= MAX_VIEWS)) {
    throw new BadRequest(`'max_views' must be a whole number from 1 to ${MAX_VIEWS.toLocaleString('en')}, not ${quoted(value)}`);
  }
  return views;
}
