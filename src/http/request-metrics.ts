// Counts and times every answer by route pattern (never the raw URL, so the label values stay
// few), and counts uploads by outcome: the routes that take files (config.files) are uploads.
import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import { AppError, resourceFailure } from '../errors.js';
import type { Metrics } from '../metrics.js';

/** What a request the router matched no route for is counted as. */
const UNMATCHED = 'unmatched';

/** The code the error handler answers for an error: the catalogue's, Fastify's, or INTERNAL. */
function errorCode(err: unknown): string {
  const described = resourceFailure(err);
  if (described instanceof AppError) return described.code;
  const { statusCode, code } = described as Partial<FastifyError>;
  return typeof statusCode === 'number' && statusCode < 500 ? code ?? 'BAD_REQUEST' : 'INTERNAL';
}

export function measureRequests(app: FastifyInstance, metrics: Metrics): void {
  const refusals = new WeakMap<FastifyRequest, string>();
  app.addHook('onError', (request, _reply, err, done) => {
    if (request.routeOptions.config.files !== undefined) refusals.set(request, errorCode(err));
    done();
  });
  // A callback, not an async function: it runs on every answer, and a promise per answer costs.
  app.addHook('onResponse', (request, reply, done) => {
    const { url = UNMATCHED, config } = request.routeOptions;
    const status = reply.statusCode;
    metrics.requests.inc({ method: request.method, route: url, status });
    metrics.requestSeconds.observe({ method: request.method, route: url }, reply.elapsedTime / 1000);
    if (config.files !== undefined && request.method === 'POST') {
      metrics.uploads.inc({ status, reason: status < 300 ? 'stored' : refusals.get(request) ?? String(status) });
    }
    done();
  });
}
