// The shared upload secret (--upload_token): sent as `Authorization: Bearer TOKEN`, or by the
// plain HTML form in its upload_token field. Both sides are hashed before comparing, so the
// comparison takes the same time whatever the token's length and however much of it is right.
import { timingSafeEqual } from 'node:crypto';
import type { FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import { UploadTokenMissing, WrongUploadToken } from '../errors.js';
import { sha256Digest as digest } from '../hash.js';

// Everything after the scheme, so a passphrase with spaces works too (RFC 6750's token68 has none).
const BEARER = /^Bearer[ \t]+(.+?)[ \t]*$/i;

export class UploadAuth {
  private readonly expected: Buffer | null;

  constructor(token: string) {
    this.expected = token === '' ? null : digest(token);
  }

  get required(): boolean {
    return this.expected !== null;
  }

  /** Throws unless the request carries the token: in its Authorization header, else in `formField`. */
  verify(request: FastifyRequest, formField?: string): void {
    if (this.expected === null) return;
    const given = bearerToken(request) ?? formField ?? '';
    if (given === '') throw new UploadTokenMissing();
    if (!timingSafeEqual(digest(given), this.expected)) throw new WrongUploadToken();
  }

  /** For routes that take the token from the header only, checked before the body is read. */
  readonly onRequest = (request: FastifyRequest): Promise<void> => Promise.resolve().then(() => { this.verify(request); });
}

/** The token of the request's `Authorization: Bearer` header, if it has one. */
export const bearerToken = (request: FastifyRequest): string | undefined => BEARER.exec(request.headers.authorization ?? '')?.[1];

/** What guards the upload routes: the rate limit's hooks (none when off), the token check, and the API's refusal of other sites' pages. */
export interface UploadGuards {
  limit: onRequestAsyncHookHandler[];
  auth: UploadAuth;
  sameSite: onRequestAsyncHookHandler;
}
