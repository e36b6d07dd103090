// Maps every error to a response in one place: catalogue errors keep their status and message
// (the storage adapters report a full or read-only storage as such), Fastify's own client errors
// keep theirs, running out of descriptors or memory, which can happen anywhere, is 503 with
// Retry-After, anything else is a logged 500;
// errors met while routing or on the connection itself get the same JSON shape.
import type { FastifyBaseLogger, FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { AppError, BadRequest, Busy, HeadersTooLarge, MalformedHttp, NotFound, RequestTimeout, TooManyUploadsAtOnce, resourceFailure } from '../errors.js';
import { wantsJson } from './negotiate.js';
import { newRequestId, REQUEST_ID_HEADER } from './request-id.js';

export interface ErrorBody { status: number; error: string; message: string }

function describe(thrown: unknown): ErrorBody & { headers: Readonly<Record<string, string>>; expected: boolean; file?: string | null } {
  const err = resourceFailure(thrown);
  if (err instanceof AppError) {
    return { status: err.status, error: err.code, message: err.message, headers: err.headers, expected: !err.damage, file: err.file };
  }
  const { statusCode, code, message } = err as Partial<FastifyError>;
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
    return { status: statusCode, error: code ?? 'BAD_REQUEST', message: message ?? 'bad request', headers: {}, expected: true };
  }
  return { status: 500, error: 'INTERNAL', message: 'internal server error', headers: {}, expected: false };
}

/** Headers of a successful answer that an error must not carry. */
const ANSWER_HEADERS = ['etag', 'last-modified', 'cache-control', 'content-range', 'accept-ranges', 'content-security-policy', 'vary', 'content-type', 'content-length'];

/**
 * `body.file`: the uploaded file the error is about, when known (the JSON answer leaves it out);
 * `body.request_id`: the id of the request's log line, for the user to quote.
 */
export type ErrorPage = (reply: FastifyReply, body: ErrorBody & { file?: string | null; request_id: string }, detail: string | null) => Promise<void>;

export function errorHandler(renderPage: ErrorPage, debug: boolean) {
  return async (err: unknown, request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    // The client hung up, or was cut off by request_timeout: nobody to answer, and no fault of ours.
    if (reply.raw.destroyed) {
      request.log.info({ err: err instanceof Error ? err.message : err }, 'the connection closed before the answer');
      return;
    }
    const body = describe(err);
    if (body.expected) request.log.info({ status: body.status, error: body.error }, body.message);
    else request.log.error({ err }, body.status === 500 ? 'request failed' : body.message);
    // A body we stopped reading early (too large, refused) is not drained: close the connection.
    // Not so for Busy (or TooManyUploadsAtOnce) with a declared length (at most max_upload_size, or it got 413): its client
    // is meant to retry, so it must read the 503, but closing while its body still arrives makes
    // the kernel reset the connection (RST for unread data) and the answer is lost. Node reads and
    // drops the rest of that body instead, and the connection stays open.
    const drained = (err instanceof Busy || err instanceof TooManyUploadsAtOnce) && request.headers['content-length'] !== undefined;
    if (!request.raw.complete && !drained) reply.header('connection', 'close');
    // What was set for the answer that failed (an image's ETag, a year of caching, a range) must
    // not describe the error: a cache would keep it for good.
    for (const name of ANSWER_HEADERS) reply.removeHeader(name);
    reply.code(body.status).headers({ 'cache-control': 'no-store', ...body.headers });
    const { status, error, message } = body;
    if (request.routeOptions.config.html && !wantsJson(request)) {
      await renderPage(reply, { status, error, message, file: body.file, request_id: request.id }, debug && err instanceof Error ? err.stack ?? null : null);
    } else {
      await reply.send({ status, error, message, request_id: request.id });
    }
  };
}

/** What every response carries: app.ts's onSend hook adds them, and the two answers below, which bypass hooks. */
export const EVERY_RESPONSE_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'strict-origin-when-cross-origin',
};

const frameworkErrorsByCode: Readonly<Record<string, () => AppError>> = {
  FST_ERR_BAD_URL: () => new BadRequest('the URL is malformed: a percent-escape does not decode to UTF-8'),
  // A path segment longer than a route parameter may be is no id of any image.
  FST_ERR_MAX_PARAM_LENGTH: () => new NotFound(),
};

/** Errors Fastify meets while routing, before any hook or handler: answered in the usual JSON shape. */
export function frameworkErrors(err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const { status, error, message, headers } = describe(frameworkErrorsByCode[err.code]?.() ?? err);
  request.log.info({ status, error }, message);
  void reply.code(status).headers({ ...headers, ...EVERY_RESPONSE_HEADERS, [REQUEST_ID_HEADER]: request.id })
    .send({ status, error, message, request_id: request.id });
}

const connectionErrorsByCode: Readonly<Record<string, () => AppError>> = {
  ERR_HTTP_REQUEST_TIMEOUT: () => new RequestTimeout(),
  HPE_HEADER_OVERFLOW: () => new HeadersTooLarge(),
};

/**
 * Errors of the connection itself (bytes that are not HTTP, headers too large, a request not
 * received within request_timeout): Node has no request to give us, so the answer is written to
 * the socket, unless a response has begun on it, and the connection is closed.
 */
export function connectionErrorHandler(log: FastifyBaseLogger) {
  return (err: Error & { code?: string }, socket: Socket): void => {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    const { status, code, message } = connectionErrorsByCode[err.code ?? '']?.() ?? new MalformedHttp();
    // No request was parsed, so none has an id: this answer gets one of its own, for its log line.
    const requestId = newRequestId();
    log.info({ reqId: requestId, status, error: code, cause: err.code }, message);
    const inFlight = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (socket.writable && inFlight?.headersSent !== true) {
      const body = JSON.stringify({ status, error: code, message, request_id: requestId });
      const headers = {
        'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(body)), ...EVERY_RESPONSE_HEADERS,
        [REQUEST_ID_HEADER]: requestId, connection: 'close',
      };
      const head = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('');
      socket.write(`HTTP/1.1 ${String(status)} ${STATUS_CODES[status] ?? ''}\r\n${head}\r\n${body}`);
    }
    socket.destroy(err);
  };
}
