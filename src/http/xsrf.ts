// CSRF protection of the browser form, as Tornado's xsrf_cookies: the page embeds a token tied
// to a secret kept in a signed, HTTP-only cookie; a form POST must send it back in the `_xsrf`
// field (or, from scripts, the X-XSRF-Token header).
import Tokens from '@fastify/csrf';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { XsrfRejected } from '../errors.js';

const COOKIE = '_xsrf';
const tokens = Tokens();

export class Xsrf {
  constructor(readonly enabled: boolean) {}

  /** A token for a page's form, setting the secret cookie on first use. */
  token(request: FastifyRequest, reply: FastifyReply): string {
    const existing = this.secret(request, reply);
    if (existing !== null) return tokens.create(existing);
    const secret = tokens.secretSync();
    // Secure when the page came over HTTPS (directly, or per X-Forwarded-Proto from a trusted proxy),
    // so the browser never sends the secret over plain HTTP.
    reply.setCookie(COOKIE, secret, { path: '/', httpOnly: true, sameSite: 'lax', signed: true, secure: request.protocol === 'https' });
    return tokens.create(secret);
  }

  /** Throws XsrfRejected unless the header or the given form field carries a valid token. */
  verify(request: FastifyRequest, reply: FastifyReply, field: string | undefined): void {
    if (!this.enabled) return;
    const header = request.headers['x-xsrf-token'];
    const token = typeof header === 'string' ? header : field;
    if (token === undefined || token === '') throw new XsrfRejected("'_xsrf' argument missing from POST");
    const secret = this.secret(request, reply);
    if (secret === null) throw new XsrfRejected("'_xsrf' cookie missing: reload the page and try again");
    if (!tokens.verify(secret, token)) throw new XsrfRejected('XSRF cookie does not match POST argument');
  }

  private secret(request: FastifyRequest, reply: FastifyReply): string | null {
    const raw = request.cookies[COOKIE];
    if (raw === undefined) return null;
    const unsigned = reply.unsignCookie(raw);
    return unsigned.valid ? unsigned.value : null;
  }
}
