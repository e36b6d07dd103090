// How a request appears in the log: as Fastify writes it, except that the delete token in a
// deletion link's path (`/d/<id>/<token>`) is masked, since anyone reading the log could use it.
import type { FastifyRequest } from 'fastify';

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
