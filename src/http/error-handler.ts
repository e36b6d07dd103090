// Maps every error to a response in one place: catalogue errors keep their status and message,
// Fastify's own client errors keep theirs, storage exhaustion is 507, anything else is a logged 500.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors.js';
import { wantsJson } from './negotiate.js';

export interface ErrorBody { status: number; error: string; message: string }

const storageErrors: Readonly<Record<string, [number, string]>> = {
  ENOSPC: [507, 'the server has no storage space left'],
  EDQUOT: [507, 'the server has no storage space left'],
  EROFS: [503, 'the server storage is read-only'],
};

function describe(err: unknown): ErrorBody & { headers: Readonly<Record<string, string>>; expected: boolean } {
  if (err instanceof AppError) {
    return { status: err.status, error: err.code, message: err.message, headers: err.headers, expected: !err.damage };
  }
  const { statusCode, code, message } = err as Partial<FastifyError>;
  const storage = code === undefined ? undefined : storageErrors[code];
  if (storage) return { status: storage[0], error: code ?? '', message: storage[1], headers: {}, expected: false };
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
    return { status: statusCode, error: code ?? 'BAD_REQUEST', message: message ?? 'bad request', headers: {}, expected: true };
  }
  return { status: 500, error: 'INTERNAL', message: 'internal server error', headers: {}, expected: false };
}

export type ErrorPage = (reply: FastifyReply, body: ErrorBody, detail: string | null) => Promise<void>;

export function errorHandler(renderPage: ErrorPage, debug: boolean) {
  return async (err: unknown, request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const body = describe(err);
    if (body.expected) request.log.info({ status: body.status, error: body.error }, body.message);
    else request.log.error({ err }, 'request failed');
    // A body we stopped reading early (too large, refused) is not drained: close the connection.
    if (!request.raw.complete) reply.header('connection', 'close');
    reply.code(body.status).headers(body.headers);
    const { status, error, message } = body;
    if (request.routeOptions.config.html && !wantsJson(request)) {
      await renderPage(reply, { status, error, message }, debug && err instanceof Error ? err.stack ?? null : null);
    } else {
      await reply.send({ status, error, message });
    }
  };
}
