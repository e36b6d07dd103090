// What the S3 SDK's failures mean for imghost: a missing object, an unavailable store (503), or
// an error that says which call failed and why.
import { AppError, Unavailable } from '../errors.js';

/** Failures with no HTTP answer that mean the store could not be reached in time. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/** No such object. HEAD answers have no body, so a 404 there is named NotFound. */
export function isMissing(err: unknown): boolean {
  const name = (err as Error).name;
  return name === 'NoSuchKey' || name === 'NotFound';
}

/**
 * Unreachable, timed out or failing on the server side (the SDK has retried those): the store is
 * unavailable, a 503. Anything else (refused credentials, a missing bucket) is an error that says
 * what failed.
 */
export function failure(err: unknown, what: string): Error {
  if (err instanceof AppError) return err;
  const { name, message, code, $metadata } = err as Error & { code?: string; $metadata?: { httpStatusCode?: number } };
  const status = $metadata?.httpStatusCode;
  if ((status !== undefined && status >= 500) || name === 'TimeoutError' || name === 'RequestTimeout'
    || (code !== undefined && NETWORK_CODES.has(code))) {
    return new Unavailable('store', `${what}: ${status !== undefined ? `HTTP ${String(status)} ` : ''}${code ?? name}`);
  }
  // RGW's error bodies carry a code but no message, which the SDK turns into 'UnknownError'.
  const detail = message === '' || message === 'UnknownError' ? '' : `: ${message}`;
  return new Error(`object store ${what} failed: ${name}${status !== undefined ? ` (HTTP ${String(status)})` : ''}${detail}`, { cause: err });
}
