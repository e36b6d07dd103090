// Who sends an upload, as the upload pipeline needs to know it: the client's address key, for the
// per-client bound on uploads received at once, and whether the client is still there to be
// answered: an upload whose client left before its answer is dropped (ingest.ts), since nobody
// would ever learn its link or its delete token.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ServerResponse } from 'node:http';
import type { Sender } from '../ingest.js';
import { peerKey } from './connections.js';

/** Aborted when the connection closes before the response was sent whole. */
export function clientGone(response: ServerResponse): AbortSignal {
  const controller = new AbortController();
  response.once('close', () => { if (!response.writableFinished) controller.abort(); });
  return controller.signal;
}

/** request.ip is the X-Forwarded-For client only from --trusted_proxies, else the TCP peer. */
export const uploadSender = (request: FastifyRequest, reply: FastifyReply): Sender =>
  ({ client: peerKey(request.ip), abandoned: clientGone(reply.raw), log: request.log });
