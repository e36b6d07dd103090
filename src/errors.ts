// The error catalogue: every failure a client can cause, with its status and message.
// Code throws these; routes/error-handler.ts turns them into responses in one place.

export class AppError extends Error {
  /** Errors that mean the server is damaged, not that the client erred: logged as errors. */
  readonly damage: boolean = false;

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

export class NotAnImage extends AppError {
  constructor() { super(400, 'NOT_AN_IMAGE', 'cannot identify image file'); }
}

export class MissingFile extends AppError {
  constructor() { super(400, 'MISSING_FILE', "the upload has no 'file' field"); }
}

export class TooLarge extends AppError {
  constructor(limit: number) {
    super(413, 'TOO_LARGE', `the file is larger than the upload limit of ${String(limit)} bytes`, { connection: 'close' });
  }
}

export class TooManyPixels extends AppError {
  constructor(width: number, height: number, frames: number, limit: number) {
    const frameText = frames > 1 ? ` x ${String(frames)} frames` : '';
    super(413, 'TOO_MANY_PIXELS', `the image is ${String(width)}x${String(height)}${frameText} pixels, more than the limit of ${String(limit)}`);
  }
}

export class UnsupportedFormat extends AppError {
  constructor(format: string) { super(415, 'UNSUPPORTED_FORMAT', `${format} files are not accepted; send JPEG, PNG, WebP, GIF, AVIF or TIFF`); }
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

export class RateLimited extends AppError {
  constructor(retryAfterSeconds: number) {
    super(429, 'RATE_LIMITED', `too many uploads from your address; retry in ${String(retryAfterSeconds)} s`, { 'retry-after': String(retryAfterSeconds) });
  }
}

/** With --public_listing=false the list is not there to find, as pict-rs has none: a 404 saying why. */
export class ListingDisabled extends AppError {
  constructor() { super(404, 'LISTING_DISABLED', 'this server does not list its images; open one by its link'); }
}

export class XsrfRejected extends AppError {
  constructor(reason: string) { super(403, 'XSRF', reason); }
}

export class Busy extends AppError {
  constructor(retryAfterSeconds: number) {
    super(503, 'BUSY', 'the server is busy making thumbnails; retry shortly', { 'retry-after': String(retryAfterSeconds) });
  }
}
