// Who may act: the upload token, users' API keys, delete tokens, ownership and quotas, and posts made
// from another site's page on a user's behalf.
import { AppError } from './app-error.js';

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

export class XsrfRejected extends AppError {
  constructor(reason: string) { super(403, 'XSRF', reason); }
}

/** A browser posting to the JSON API from another site's page, without an upload token. */
export class CrossSiteUpload extends AppError {
  constructor() {
    super(403, 'CROSS_SITE_UPLOAD', 'uploads to the API from another site need Authorization: Bearer <token>; use the upload page instead');
  }
}
