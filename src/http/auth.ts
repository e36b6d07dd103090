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
import { ApiKeyRequired, UploadTokenMissing, WrongApiKey, WrongUploadToken } from '../errors.js';
import { sha256, sha256Digest as digest } from '../hash.js';
import { assertRoom, type AccountRepo, type User } from '../repo/accounts.js';

// Everything after the scheme, so a passphrase with spaces works too (RFC 6750's token68 has none).
const BEARER = /^Bearer[ \t]+(.+?)[ \t]*$/i;

/** How long the page trusts its last answer to whether the server has any user. */
const USERS_CHECKED_EVERY_MS = 10_000;

export class UploadAuth {
  private readonly shared: Buffer | null;
  private readonly usersOnly: boolean;
  /** Who sent each request being handled, once known: a form is checked before each of its files. */
  private readonly uploaders = new WeakMap<FastifyRequest, User | null>();
  private anyUsers: { answer: Promise<boolean>; at: number } | null = null;

  constructor(config: Pick<Config, 'upload_token' | 'uploads'>, private readonly accounts: AccountRepo) {
    this.shared = config.upload_token === '' ? null : digest(config.upload_token);
    this.usersOnly = config.uploads === 'users';
  }

  /** Whether an upload must carry a token or key (the page then asks for one). */
  get required(): boolean {
    return this.shared !== null || this.usersOnly;
  }

  /**
   * Whether the page offers a field for a token or key: when uploads need one, or when there is
   * a user whose key would make an upload theirs. Asked on every page view, so the answer is
   * kept a few seconds: a user added is offered the field that much later.
   */
  async keyField(): Promise<boolean> {
    if (this.required) return true;
    const now = Date.now();
    if (this.anyUsers === null || now - this.anyUsers.at >= USERS_CHECKED_EVERY_MS) {
      // A failed look-up is asked again on the next view rather than kept.
      const answer = this.accounts.hasUsers().catch(() => { this.anyUsers = null; return false; });
      this.anyUsers = { answer, at: now };
    }
    return this.anyUsers.answer;
  }

  /**
   * Throws unless the request may upload, as someone (its Authorization header, else `formField`,
   * names who): UploadTokenMissing / ApiKeyRequired without a key, WrongUploadToken for a key
   * that is no user's and not the shared token (on a server open to all, such a key is no key).
   * A user already at their quota gets QuotaExceeded here, before the body is received; the
   * check that holds under concurrent uploads is the insert's (insertPending).
   */
  async verify(request: FastifyRequest, formField?: string): Promise<void> {
    if (this.uploaders.has(request)) return;
    const user = await this.identify(bearerToken(request) ?? formField ?? '');
    this.uploaders.set(request, user);
    if (user && (user.quotaBytes !== null || user.maxImages !== null)) assertRoom(user, await this.accounts.usage(user.id));
  }

  /**
   * Whether an uploader config may carry `given`: the shared token or a user's key. A wrong one
   * is refused (WrongUploadToken) where uploads need a token; on a server open to all it is no key.
   */
  async bakeable(given: string): Promise<boolean> {
    return (await this.identify(given)) !== null || this.required;
  }

  /** The user a verified request uploads as; null for an anonymous upload. */
  uploader(request: FastifyRequest): string | null {
    return this.uploaders.get(request)?.id ?? null;
  }

  /** The user whose key the request's Authorization header carries (ApiKeyRequired, WrongApiKey otherwise). */
  async user(request: FastifyRequest, what: string): Promise<User> {
    const given = bearerToken(request);
    if (given === undefined) throw new ApiKeyRequired(what);
    const user = await this.accounts.findKey(sha256(given));
    if (!user) throw new WrongApiKey();
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
