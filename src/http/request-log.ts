// How a request appears in the log: one line once it is answered, with its status, time, method,
// URL and client, the delete token in a deletion link's path (`/d/<id>/<token>`) masked, since
// anyone reading the log could use it. Fastify's own logging writes two lines per request (one
// as it arrives): on a small GET, writing them cost more CPU than answering it.
import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';

/** A path the router would take for a deletion link, however its `/d/` is spelled or escaped. */
const DELETION_LINK = /^(\/+(?:d|%64)\/+[^/?#]*\/+)[^/?#]+/i;

export const maskedUrl = (url: string): string => url.replace(DELETION_LINK, '$1[token]');

/** pino's serializer of `req`, Fastify's fields with the URL masked. */
export function requestForLog(request: FastifyRequest): Record<string, unknown> {
  return {
    method: request.method,
    url: maskedUrl(request.url),
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket.remotePort,
  };
}

/** Fastify's request lines, but one per request: `request completed` (or `request errored`), with the request. */
export class AccessLog extends LogController {
  override incomingRequest(request: FastifyRequest): void {
    // Its fields are on the line written once the request is answered; with --logging=debug a
    // request is also seen as it arrives (a slow upload, a request that never ends).
    request.log.debug({ req: request }, 'incoming request');
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const line = { res: reply, req: request, responseTime: reply.elapsedTime };
    if (error) reply.log.error({ ...line, err: error }, 'request errored');
    else reply.log.info(line, 'request completed');
  }
}
