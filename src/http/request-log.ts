// How a request appears in the log: one line once it is answered, with its id (request-id.ts),
// method, URL, route, client, status, bytes sent and time, the delete token in a deletion link's
// path (`/d/<id>/<token>`) masked, since anyone reading the log could use it. Fastify's own logging writes two lines per request (one
// as it arrives): on a small GET, writing them cost more CPU than answering it.
import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Socket } from 'node:net';

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

  /** What each kept-alive connection had written when its previous answer was logged. */
  private readonly written = new WeakMap<Socket, number>();

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const bytes = this.bytesSent(request.socket, reply);
    const line = { res: reply, req: request, route: request.routeOptions.url, bytes, responseTime: reply.elapsedTime };
    if (error) reply.log.error({ ...line, err: error }, 'request errored');
    else reply.log.info(line, 'request completed');
  }

  /**
   * The bytes of this answer, headers included (as nginx's $bytes_sent), counted on its connection:
   * a streamed answer has no Content-Length, and a HEAD or 304 one names a body it does not send.
   * Answers on a connection are written one after the other, so the count since the last is this one's.
   * A connection already let go of (closed while answering; typed as never null, it can be) leaves the
   * Content-Length, if any.
   */
  private bytesSent(socket: Socket | null, reply: FastifyReply): number | undefined {
    if (socket === null) return Number(reply.getHeader('content-length')) || undefined;
    const total = socket.bytesWritten;
    const before = this.written.get(socket) ?? 0;
    this.written.set(socket, total);
    return total - before;
  }
}
