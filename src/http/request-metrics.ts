// Counts and times every answer by route pattern (never the raw URL, so the label values stay
// few), and counts uploads by outcome: the routes that take files (config.files) are uploads.
// Each route gets hooks of its own as it is added, holding its series: an answer costs a few
// map lookups and additions, no allocation.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, onErrorHookHandler, onResponseHookHandler } from 'fastify';
import { AppError, resourceFailure } from '../errors.js';
import type { Metrics } from '../metrics.js';
import type { CounterSeries, HistogramSeries } from '../metric-series.js';

/** What a request the router matched no route for is counted as. */
const UNMATCHED = 'unmatched';

/** The code the error handler answers for an error: the catalogue's, Fastify's, or INTERNAL. */
function errorCode(err: unknown): string {
  const described = resourceFailure(err);
  if (described instanceof AppError) return described.code;
  const { statusCode, code } = described as Partial<FastifyError>;
  return typeof statusCode === 'number' && statusCode < 500 ? code ?? 'BAD_REQUEST' : 'INTERNAL';
}

const listed = <T>(hooks: T | T[] | undefined): T[] => (hooks === undefined ? [] : Array.isArray(hooks) ? hooks : [hooks]);

/** Counts the answers of one route; `refusals` (for an upload route) holds the error code of each refused upload. */
function countAnswers(metrics: Metrics, route: string, refusals: WeakMap<FastifyRequest, string> | null) {
  const byMethod = new Map<string, { seconds: HistogramSeries; byStatus: Map<number, CounterSeries> }>();
  return (request: FastifyRequest, reply: FastifyReply): void => {
    const { method } = request;
    let stats = byMethod.get(method);
    if (!stats) {
      stats = { seconds: metrics.requestSeconds.series({ method, route }), byStatus: new Map() };
      byMethod.set(method, stats);
    }
    const status = reply.statusCode;
    let answers = stats.byStatus.get(status);
    if (!answers) {
      answers = metrics.requests.series({ method, route, status: String(status) });
      stats.byStatus.set(status, answers);
    }
    answers.inc();
    stats.seconds.observe(reply.elapsedTime / 1000);
    if (refusals && method === 'POST') {
      metrics.uploads.inc({ status, reason: status < 300 ? 'stored' : refusals.get(request) ?? String(status) });
    }
  };
}

export function measureRequests(app: FastifyInstance, metrics: Metrics): void {
  const refusals = new WeakMap<FastifyRequest, string>();
  const remember: onErrorHookHandler = (request, _reply, err, done) => {
    refusals.set(request, errorCode(err));
    done();
  };
  app.addHook('onRoute', (route) => {
    const upload = route.config?.files !== undefined;
    if (upload) route.onError = [...listed(route.onError), remember];
    const count = countAnswers(metrics, route.url, upload ? refusals : null);
    const counted: onResponseHookHandler = (request, reply, done) => {
      count(request, reply);
      done();
    };
    route.onResponse = [...listed(route.onResponse), counted];
  });
  // Paths no route matches have no route to hook into.
  const unmatched = countAnswers(metrics, UNMATCHED, null);
  app.addHook('onResponse', (request, reply, done) => {
    if (request.is404) unmatched(request, reply);
    done();
  });
}
