// Signed URLs for renditions of any box: /imgs/<id>/s/<signature>/<box>[.<ext>], where the
// signature is the base64url HMAC-SHA256, under --signing_key, of `<id>/<box>[.<ext>]`. Only
// whoever holds the key can ask for a size, so nobody else can make the server encode and store
// an unbounded number of variants.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { BadSignature, BadVariantBox, SignedUrlsDisabled } from '../errors.js';
import { gravities, type Gravity, type RenditionSpec } from '../images/rendition.js';
import { formatOfExtension, MAX_VARIANT_SIZE, negotiatedRequest, type VariantRequest } from './spec.js';

/**
 * `WxH`: fit inside (0: no bound on that side); `WxH-cover`: fill the box, cropped around the
 * centre; `WxH-cover-GRAVITY`: cropped towards a side or corner, or what `entropy` or `attention`
 * find (`-cover-centre` is `-cover`). Numbers without leading zeros; gravities by sharp's names.
 */
const BOX = /^(0|[1-9]\d{0,4})x(0|[1-9]\d{0,4})(?:-(cover)(?:-([a-z]+))?)?(?:\.([a-z]+))?$/;
const GRAMMAR = 'WxH, WxH-cover or WxH-cover-GRAVITY, then optionally .webp, .avif, .jpg, .png or .gif';

/** The string the signature is made over: `<id>/<box>[.<ext>]`, as it appears in the URL. */
const signedText = (id: string, box: string): string => `${id}/${box}`;

/** base64url (no padding) of HMAC-SHA256(key, `<id>/<box>[.<ext>]`). */
export function sign(key: string, id: string, box: string): string {
  return createHmac('sha256', key).update(signedText(id, box)).digest('base64url');
}

/** Whether `signature` is the one for this id and box, compared in constant time. */
export function verify(key: string, id: string, box: string, signature: string): boolean {
  const expected = Buffer.from(sign(key, id, box));
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The rendition a box asks for, its format from the extension or else from Accept. Throws BadVariantBox. */
export function parseBox(box: string, accept: string | undefined, avif: boolean): VariantRequest {
  const fail = (why: string): never => { throw new BadVariantBox(box, `${why} (expected ${GRAMMAR})`); };
  const match = BOX.exec(box);
  if (!match) return fail('is malformed');
  const [, w = '', h = '', cover, gravity, ext] = match;
  const width = Number(w);
  const height = Number(h);
  const fit = cover === undefined ? 'inside' : 'cover';
  if (width > MAX_VARIANT_SIZE || height > MAX_VARIANT_SIZE) fail(`has a side over ${String(MAX_VARIANT_SIZE)} pixels`);
  if (width === 0 && height === 0) fail('bounds neither side');
  if (fit === 'cover' && (width === 0 || height === 0)) fail('must bound both sides to be covered');
  if (gravity !== undefined && !isGravity(gravity)) return fail(`names no gravity of ${gravities.join(', ')}`);
  const asked: Omit<RenditionSpec, 'format'> = gravity === undefined ? { width, height, fit } : { width, height, fit, gravity };
  if (ext === undefined) return negotiatedRequest(asked, accept, avif);
  const format = formatOfExtension(ext);
  if (format === undefined) return fail('has an extension other than webp, avif, jpg, png and gif');
  return { spec: { ...asked, format }, negotiated: false };
}

const isGravity = (name: string): name is Gravity => (gravities as readonly string[]).includes(name);

/**
 * What a signed request asks for: SignedUrlsDisabled without a key, BadSignature unless signed
 * with it, then BadVariantBox for a box out of range. The signature is checked first, so
 * unsigned requests learn nothing about which boxes would be accepted.
 */
export function signedRequest(key: string, avif: boolean, { id, signature, box }: SignedParams, accept: string | undefined): VariantRequest {
  if (key === '') throw new SignedUrlsDisabled();
  if (!verify(key, id, box, signature)) throw new BadSignature();
  return parseBox(box, accept, avif);
}

export interface SignedParams { id: string; signature: string; box: string }

/** The path of a signed URL for this id and box; throws BadVariantBox for a box that would be refused. */
export function signedPath(key: string, id: string, box: string): string {
  parseBox(box, undefined, false);
  return `/imgs/${id}/s/${sign(key, id, box)}/${box}`;
}
