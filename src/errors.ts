// The error catalogue: every failure a client can cause, with its status and message.
// Code throws these; routes/error-handler.ts turns them into responses in one place.
import { formatBytes } from './bytes.js';
import { formatLabels } from './images/formats.js';

export class AppError extends Error {
  /** Errors that mean the server is damaged, not that the client erred: logged as errors. */
  readonly damage: boolean = false;
  /** The name of the uploaded file the error is about, when a request may carry several: its page shows it. */
  file: string | null = null;

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** `err`, marked as being about the uploaded file `name` unless it already names one. */
export function aboutFile<E>(err: E, name: string | null): E {
  if (err instanceof AppError && err.file === null) err.file = name;
  return err;
}

/** A bad option or an unusable storage location given by the operator: reported as one line, exit code 2. */
export class ConfigError extends Error {}

export class NotAnImage extends AppError {
  constructor() { super(400, 'NOT_AN_IMAGE', 'cannot identify image file'); }
}

export class MissingFile extends AppError {
  constructor() { super(400, 'MISSING_FILE', "the upload has no 'file' field"); }
}

export class TooLarge extends AppError {
  constructor(limit: number) {
    super(413, 'TOO_LARGE', `the file is larger than the ${formatBytes(limit)} limit`, { connection: 'close' });
  }
}

export class TooManyPixels extends AppError {
  constructor(width: number, height: number, frames: number, limit: number) {
    const frameText = frames > 1 ? ` x ${String(frames)} frames` : '';
    const megapixels = (n: number) => { const mp = Math.round(n / 100_000) / 10; return `${String(mp)} megapixel${mp === 1 ? '' : 's'}`; };
    super(413, 'TOO_MANY_PIXELS', `the image is ${String(width)}x${String(height)}${frameText}, ${megapixels(width * height * frames)}, `
      + `more than the limit of ${megapixels(limit)}`);
  }
}

/** Decoding the image would need more memory than decode_budget, judged from its header. */
export class OverDecodeBudget extends AppError {
  /** `needBytes`: the estimate, when the image was refused from its header rather than stopped while decoding. */
  constructor(budgetBytes: number, needBytes?: number) {
    super(413, 'OVER_DECODE_BUDGET', needBytes === undefined
      ? `decoding the image took more memory than the ${formatBytes(budgetBytes)} limit per image allows`
      : `decoding the image would need about ${formatBytes(needBytes)} of memory, more than the ${formatBytes(budgetBytes)} limit`);
  }
}

/** Decoding or thumbnailing the image took longer than thumb_timeout (e.g. a JPEG of thousands of scans). */
export class ImageTooComplex extends AppError {
  constructor(seconds: number) {
    super(422, 'IMAGE_TOO_COMPLEX', `the image took longer than ${String(seconds)} s to decode; send a simpler file`);
  }
}

/** A progressive JPEG of more scans than any encoder writes: each one costs a pass over the whole image. */
export class TooManyScans extends AppError {
  constructor(limit: number) {
    super(422, 'TOO_MANY_SCANS', `the progressive JPEG has more than ${String(limit)} scans (encoders write about ten); send a simpler file`);
  }
}

export class TooManyFrames extends AppError {
  constructor(format: string, limit: number) {
    super(422, 'TOO_MANY_FRAMES', `the ${format} has more than ${String(limit)} frames or too many other parts; send a simpler file`);
  }
}

export class UnsupportedFormat extends AppError {
  constructor(format: string) { super(415, 'UNSUPPORTED_FORMAT', `${format} files are not accepted; send ${formatLabels}`); }
}

export class UnsupportedBody extends AppError {
  constructor(contentType: string) {
    super(415, 'UNSUPPORTED_BODY', `send multipart/form-data with a 'file' field or a raw image body, not ${contentType}`);
  }
}

export class NotFound extends AppError {
  constructor(what = 'image not found') { super(404, 'NOT_FOUND', what); }
}

export class BlobMissing extends AppError {
  override readonly damage = true;
  constructor(key: string) { super(404, 'BLOB_MISSING', `the stored file ${key} is missing`); }
}

/** A dependency (database, object store) failed or timed out: the client may retry. */
export class Unavailable extends AppError {
  override readonly damage = true;
  constructor(dependency: 'db' | 'store', detail: string) {
    super(503, 'UNAVAILABLE', `the ${dependency === 'db' ? 'database' : 'object store'} is unavailable: ${detail}`, { 'retry-after': '5' });
  }
}

export class BadRequest extends AppError {
  constructor(message: string) { super(400, 'BAD_REQUEST', message); }
}

export class BadFileName extends AppError {
  constructor(reason: string) { super(400, 'BAD_FILE_NAME', `the file name ${reason}`); }
}

/** A Host (or forwarded host or scheme) the server will not build links from. */
export class BadHost extends AppError {
  constructor(reason: string) { super(400, 'BAD_HOST', reason); }
}

// Errors of the connection itself, answered on the socket before it is closed.

/** The request did not arrive whole within request_timeout (a slow-loris client). */
export class RequestTimeout extends AppError {
  constructor() { super(408, 'REQUEST_TIMEOUT', 'the request was not received in time'); }
}

export class HeadersTooLarge extends AppError {
  constructor() { super(431, 'HEADERS_TOO_LARGE', 'the request headers are too large'); }
}

/** Bytes on the connection that do not parse as HTTP/1.1. */
export class MalformedHttp extends AppError {
  constructor() { super(400, 'MALFORMED_HTTP', 'the request is not valid HTTP'); }
}

export class WrongDeleteToken extends AppError {
  constructor() { super(403, 'WRONG_DELETE_TOKEN', 'the delete token is missing or wrong'); }
}

/** RFC 6750: a 401 names its scheme in WWW-Authenticate; a wrong token says invalid_token. */
export class UploadTokenMissing extends AppError {
  constructor() {
    super(401, 'UPLOAD_TOKEN_REQUIRED', 'uploads to this server need a token: send Authorization: Bearer <token>', { 'www-authenticate': 'Bearer realm="imghost"' });
  }
}

export class WrongUploadToken extends AppError {
  constructor() {
    super(401, 'WRONG_UPLOAD_TOKEN', 'the upload token is wrong', { 'www-authenticate': 'Bearer realm="imghost", error="invalid_token"' });
  }
}

/** A request that acts as a user (--uploads=users, /api/me) without their key. */
export class ApiKeyRequired extends AppError {
  constructor(what: string) {
    super(401, 'API_KEY_REQUIRED', `${what} needs your API key: send Authorization: Bearer <key> (an operator makes one with imghost keys add)`,
      { 'www-authenticate': 'Bearer realm="imghost"' });
  }
}

/** A key, on a route that acts as a user (/api/me, deleting by key), that is no user's. */
export class WrongApiKey extends AppError {
  constructor() {
    super(401, 'WRONG_API_KEY', 'this API key is not valid: it was mistyped or revoked (imghost keys list shows the valid ones)',
      { 'www-authenticate': 'Bearer realm="imghost", error="invalid_token"' });
  }
}

/** Another user's key: the owner's key, or the image's delete token, may delete it. */
export class NotYours extends AppError {
  constructor() { super(403, 'NOT_YOURS', 'this image belongs to another user'); }
}

/** An upload that would take its owner past a quota (`what`: the limit, in words); nothing is stored. */
export class QuotaExceeded extends AppError {
  constructor(what: string) { super(413, 'QUOTA_EXCEEDED', `this upload would go over your quota: ${what}`); }
}

/** An image past its expiry or its view limit, or removed by a takedown: its links are gone for good. */
export class Gone extends AppError {
  constructor(why: string) { super(410, 'GONE', why); }
}

/** Bytes the operator took down (imghost takedown) are refused wherever they are uploaded again. */
export class TakenDown extends AppError {
  constructor() { super(451, 'TAKEN_DOWN', 'this file was taken down by the operator of this server and cannot be uploaded here'); }
}

export class RateLimited extends AppError {
  constructor(retryAfterSeconds: number) {
    super(429, 'RATE_LIMITED', `too many uploads from your address; retry in ${String(retryAfterSeconds)} s`, { 'retry-after': String(retryAfterSeconds) });
  }
}

/** With --public_listing=false the list is not there to find, as pict-rs has none: a 404 saying why. */
export class ListingDisabled extends AppError {
  constructor() { super(404, 'LISTING_DISABLED', 'this server does not list its images; open one by its link'); }
}

/** A signed variant URL on a server without --signing_key: only the named sizes exist there. */
export class SignedUrlsDisabled extends AppError {
  constructor() { super(404, 'SIGNED_URLS_DISABLED', 'signed URLs are not enabled on this server; ask for a named size'); }
}

/** A signed variant URL whose signature was not made with this server's key for that id and box. */
export class BadSignature extends AppError {
  constructor() { super(403, 'BAD_SIGNATURE', 'the URL signature is missing or wrong for this image and box'); }
}

/** An oEmbed request for a format other than JSON: the oEmbed spec's answer is 501. */
export class OEmbedFormatUnsupported extends AppError {
  constructor(format: string) { super(501, 'OEMBED_FORMAT_UNSUPPORTED', `oEmbed answers in json only, not '${format}'`); }
}

/** The box of a signed variant URL, or given to `imghost sign`, that no rendition is made for. */
export class BadVariantBox extends AppError {
  constructor(box: string, why: string) { super(400, 'BAD_VARIANT_BOX', `the box '${box}' ${why}`); }
}

export class XsrfRejected extends AppError {
  constructor(reason: string) { super(403, 'XSRF', reason); }
}

/** A browser posting to the JSON API from another site's page, without an upload token. */
export class CrossSiteUpload extends AppError {
  constructor() {
    super(403, 'CROSS_SITE_UPLOAD', 'uploads to the API from another site need Authorization: Bearer <token>; use the upload page instead');
  }
}

export class Busy extends AppError {
  /** `doing`: what the server is busy with: making images (thumbnails, variants) unless said. */
  constructor(retryAfterSeconds: number, doing = 'making images') {
    super(503, 'BUSY', `the server is busy ${doing}; retry shortly`, { 'retry-after': String(retryAfterSeconds) });
  }
}

/** A form post of more files than its route takes. */
export class TooManyFiles extends AppError {
  constructor(limit: number) {
    super(413, 'TOO_MANY_FILES', `send at most ${String(limit)} files at once`, { connection: 'close' });
  }
}

/** One client already has max_uploads_per_client uploads in flight. */
export class TooManyUploadsAtOnce extends AppError {
  constructor(limit: number) {
    super(429, 'TOO_MANY_UPLOADS_AT_ONCE', `you are already sending ${String(limit)} uploads; send the next when one is done`, { 'retry-after': '1' });
  }
}

/** The upload's pending record was taken away before it was made visible (its lease ran out). */
export class UploadLost extends AppError {
  override readonly damage = true;
  constructor() {
    super(503, 'UPLOAD_LOST', 'the upload was interrupted before it was stored; retry', { 'retry-after': '1' });
  }
}

/** The client closed the connection before its upload was answered: nothing is kept. */
export class UploadAbandoned extends AppError {
  constructor() { super(400, 'UPLOAD_ABANDONED', 'the client closed the connection before the upload was answered'); }
}

// What the server lacks, as the storage adapters report it: an operator must act, so these are
// logged as errors. `error` in the answer names the system's own code (ENOSPC, SQLITE_FULL, ...).

export class StorageFull extends AppError {
  override readonly damage = true;
  constructor(code: string) { super(507, code, 'the server has no storage space left'); }
}

export class StorageReadOnly extends AppError {
  override readonly damage = true;
  constructor(code: string) { super(503, code, 'the server storage is read-only'); }
}

/** The data directory's permissions changed under the server. */
export class StorageNotWritable extends AppError {
  override readonly damage = true;
  constructor(code: string) { super(503, code, 'the server storage is not writable'); }
}

/** Out of file descriptors, memory or processes: the condition passes once other requests finish. */
export class OutOfResources extends AppError {
  override readonly damage = true;
  constructor(code: string) {
    super(503, code, 'the server is out of resources for the moment; retry shortly', { 'retry-after': '5' });
  }
}

type Catalogued = new (code: string) => AppError;
// fork/spawn or a thread that cannot be made now is EAGAIN (a non-blocking read's never surfaces).
const exhaustion: Readonly<Record<string, Catalogued>> = {
  EMFILE: OutOfResources, ENFILE: OutOfResources, ENOMEM: OutOfResources, ENOBUFS: OutOfResources, EAGAIN: OutOfResources,
};
// SQLite reports the same conditions with its own codes, extended ones after a second '_'.
const storage: Readonly<Record<string, Catalogued>> = {
  ...exhaustion,
  ENOSPC: StorageFull, EDQUOT: StorageFull, SQLITE_FULL: StorageFull,
  EROFS: StorageReadOnly, SQLITE_READONLY: StorageReadOnly,
  EACCES: StorageNotWritable,
  SQLITE_NOMEM: OutOfResources, SQLITE_CANTOPEN: OutOfResources,
};

function catalogue<E>(err: E, table: Readonly<Record<string, Catalogued>>): E | AppError {
  const { code } = (err ?? {}) as { code?: unknown };
  if (err instanceof AppError || typeof code !== 'string') return err;
  const Known = table[code] ?? table[code.replace(/^(SQLITE_[A-Z]+)_.*$/, '$1')];
  if (Known === undefined) return err;
  return Object.assign(new Known(code), { cause: err });
}

/** For storage adapters: a full, read-only or exhausted storage as its catalogue error; anything else as it was. */
export const storageFailure = <E>(err: E): E | AppError => catalogue(err, storage);

/** Running out of descriptors or memory can happen anywhere: its catalogue error, or the error as it was. */
export const resourceFailure = <E>(err: E): E | AppError => catalogue(err, exhaustion);
