// Which kind of answer a client wants from a route that serves both browsers and the page's script.
import type { FastifyRequest } from 'fastify';

/** True when the client asked for JSON rather than a page (the upload page's script does). */
export function wantsJson(request: FastifyRequest): boolean {
  const accept = request.headers.accept ?? '';
  return accept.includes('application/json') && !accept.includes('text/html');
}
