// Who is uploading: a user, by one of their API keys (`imghost keys add`), or anonymous. A key or
// the shared --upload_token is sent as `Authorization: Bearer KEY`, or by the plain HTML form in its
// upload_token field. With --uploads=users only a user's key may upload; otherwise anyone may
// (with the shared token, when one is set), and a user's key makes the upload theirs.
// API keys are looked up by their SHA-256 (the database compares the stored hash again in constant
// time); the shared token's and the given value's hashes are compared in constant time too, so
// neither comparison takes longer for a longer or more nearly right guess.
import { timingSafeEqual } from 'node:crypto';
import type { FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import type { Config } from '../config/options.js';
import { ApiKeyRequired, UploadTokenMissing, WrongUploadToken } from '../errors.js';
import { sha256, sha256Digest as digest } from '../hash.js';
import type { AccountRepo, User } from '../repo/accounts.js';

// Everything after the scheme, so a passphrase with spaces works too (RFC 6750's token68 has none).
const BEARER = /^Bearer[ \t]+(.+?)[ \t]*$/i;

export class UploadAuth {
  private readonly shared: Buffer | null;
  private readonly usersOnly: boolean;
  /** Who sent each request being handled, once known: a form is checked before each of its files. */
  private readonly uploaders = new WeakMap<FastifyRequest, User | null>();

  constructor(config: Pick<Config, 'upload_token' | 'uploads'>, private readonly accounts: AccountRepo) {
    this.shared = config.upload_token === '' ? null : digest(config.upload_token);
    this.usersOnly = config.uploads === 'users';
  }

  /** Whether an upload must carry a token or key (the page then asks for one). */
  get required(): boolean {
    return this.shared !== null || this.usersOnly;
  }

  /**
   * Throws unless the request may upload, as someone (its Authorization header, else `formField`,
   * names who): UploadTokenMissing / ApiKeyRequired without a key, WrongUploadToken for a key
   * that is no user's and not the shared token (on a server open to all, such a key is no key).
   */
  async verify(request: FastifyRequest, formField?: string): Promise<void> {
    if (this.uploaders.has(request)) return;
    this.uploaders.set(request, await this.identify(bearerToken(request) ?? formField ?? ''));
  }

  /** The user a verified request uploads as; null for an anonymous upload. */
  uploader(request: FastifyRequest): string | null {
    return this.uploaders.get(request)?.id ?? null;
  }

  /** The user whose key the request's Authorization header carries (ApiKeyRequired, WrongUploadToken otherwise). */
  async user(request: FastifyRequest, what: string): Promise<User> {
    const given = bearerToken(request);
    if (given === undefined) throw new ApiKeyRequired(what);
    const user = await this.accounts.findKey(sha256(given));
    if (!user) throw new WrongUploadToken();
    return user;
  }

  /** For routes that take the key from the header only, checked before the body is read. */
  readonly onRequest = (request: FastifyRequest): Promise<void> => this.verify(request);

  private async identify(given: string): Promise<User | null> {
    if (given === '') {
      if (this.usersOnly) throw new ApiKeyRequired('uploading to this server');
      if (this.shared !== null) throw new UploadTokenMissing();
      return null;
    }
    const user = await this.accounts.findKey(sha256(given));
    if (user) return user;
    if (this.usersOnly) throw new WrongUploadToken();
    // A server open to all takes any other Bearer value as it always has: as no key at all.
    if (this.shared === null) return null;
    if (timingSafeEqual(digest(given), this.shared)) return null;
    throw new WrongUploadToken();
  }
}

/** The token of the request's `Authorization: Bearer` header, if it has one. */
export const bearerToken = (request: FastifyRequest): string | undefined => BEARER.exec(request.headers.authorization ?? '')?.[1];

/** What guards the upload routes: the rate limit's hooks (none when off), the key check, and the API's refusal of other sites' pages. */
export interface UploadGuards {
  limit: onRequestAsyncHookHandler[];
  auth: UploadAuth;
  sameSite: onRequestAsyncHookHandler;
}
