// Why an upload is refused or lost before it is stored, apart from its image's bytes (image.ts):
// its body and file name, the pace of its sender, bytes the operator took down.
import { formatBytes } from '../bytes.js';
import { AppError } from './app-error.js';

export class MissingFile extends AppError {
  constructor() { super(400, 'MISSING_FILE', "the upload has no 'file' field"); }
}

export class TooLarge extends AppError {
  constructor(limit: number) {
    super(413, 'TOO_LARGE', `the file is larger than the ${formatBytes(limit)} limit`, { connection: 'close' });
  }
}

export class UnsupportedBody extends AppError {
  constructor(contentType: string) {
    super(415, 'UNSUPPORTED_BODY', `send multipart/form-data with a 'file' field or a raw image body, not ${contentType}`);
  }
}

export class BadFileName extends AppError {
  constructor(reason: string) { super(400, 'BAD_FILE_NAME', `the file name ${reason}`); }
}

/** A form post of more files than its route takes. */
export class TooManyFiles extends AppError {
  constructor(limit: number) {
    super(413, 'TOO_MANY_FILES', `send at most ${String(limit)} files at once`, { connection: 'close' });
  }
}

export class RateLimited extends AppError {
  constructor(retryAfterSeconds: number) {
    super(429, 'RATE_LIMITED', `too many uploads from your address; retry in ${String(retryAfterSeconds)} s`, { 'retry-after': String(retryAfterSeconds) });
  }
}

/** One client already has max_uploads_per_client uploads in flight. */
export class TooManyUploadsAtOnce extends AppError {
  constructor(limit: number) {
    super(429, 'TOO_MANY_UPLOADS_AT_ONCE', `you are already sending ${String(limit)} uploads; send the next when one is done`, { 'retry-after': '1' });
  }
}

/** Bytes the operator took down (imghost takedown) are refused wherever they are uploaded again. */
export class TakenDown extends AppError {
  constructor() { super(451, 'TAKEN_DOWN', 'this file was taken down by the operator of this server and cannot be uploaded here'); }
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
