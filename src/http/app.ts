// Builds the Fastify application: plugins, security headers, the error handler and the routes.
// No business logic lives here; routes call the Library.
import fastifyCookie from '@fastify/cookie';
import fastifyMultipart from '@fastify/multipart';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config/options.js';
import { Assets } from './assets.js';
import { UploadAuth } from './auth.js';
import { connectionCap, limitConnections, trustedPeer } from './connections.js';
import { sameSiteOnly } from './cross-site.js';
import { connectionErrorHandler, errorHandler, EVERY_RESPONSE_HEADERS, frameworkErrors } from './error-handler.js';
import { publicBase } from './origin.js';
import { trustProxy, uploadRateLimit } from './rate-limit.js';
import { AccessLog, requestForLog } from './request-log.js';
import { measureRequests } from './request-metrics.js';
import { REQUEST_ID_HEADER, requestIds } from './request-id.js';
import { rawBodyTypes, refuseOversizeBodies } from './upload-body.js';
import { pageCsp, Views } from './views.js';
import { Xsrf } from './xsrf.js';
import type { Library } from '../library.js';
import type { Metrics } from '../metrics.js';
import { apiRoutes } from '../routes/api.js';
import { deletePageRoutes } from '../routes/delete-page.js';
import { healthRoutes } from '../routes/health.js';
import { imageRoutes } from '../routes/images.js';
import { FORM_FILES, pageRoutes } from '../routes/pages.js';
import { uploaderRoutes } from '../routes/uploaders.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Errors on this route are answered with an HTML page instead of JSON. */
    html?: boolean;
  }
}

export interface AppDeps {
  config: Config;
  library: Library;
  logger: Logger;
  cookieSecret: string;
  /** When given, every answer is counted and timed into it. */
  metrics?: Metrics;
}

/**
 * True for any path the router could take for one under /imgs/ (`/imgs`, `/%69mgs/`, `//imgs/`):
 * those answers are image bytes or JSON, never an HTML page, whatever the client accepts.
 */
function underImages(url: string): boolean {
  const path = url.split('?', 1)[0] ?? '';
  let decoded = path;
  try { decoded = decodeURIComponent(path); } catch { /* a path that does not decode is judged as sent */ }
  return /^\/+imgs(?:\/|$)/i.test(decoded) || /^\/+imgs(?:\/|$)/i.test(path);
}

export async function buildApp({ config, library, logger, cookieSecret, metrics }: AppDeps): Promise<FastifyInstance> {
  const loggerInstance: FastifyBaseLogger = logger.child({}, { serializers: { req: requestForLog } });
  const requestTimeout = config.request_timeout * 1000;
  const headersTimeout = Math.min(config.headers_timeout * 1000, requestTimeout);
  const base = publicBase(config.public_url);
  const app = Fastify({
    loggerInstance,
    forceCloseConnections: 'idle',
    // X-Forwarded-For (and -Proto, -Host) are believed only from these peers.
    trustProxy: trustProxy(config),
    // Node answers 408 to a request not received whole in time, checking every tenth of that.
    requestTimeout,
    keepAliveTimeout: config.keepalive_timeout * 1000,
    http: { headersTimeout, connectionsCheckingInterval: Math.min(30_000, headersTimeout / 10) },
    clientErrorHandler: connectionErrorHandler(loggerInstance),
    frameworkErrors,
    logController: new AccessLog(),
    genReqId: requestIds(trustedPeer(trustProxy(config) || [])),
  });
  const connections = { total: connectionCap(config.max_connections), perAddress: config.max_connections_per_ip };
  limitConnections(app.server, { ...connections, trustedProxies: trustProxy(config) || [] });
  logger.debug(connections, 'connection caps');
  const assets = Assets.load();
  const views = new Views(config.debug, assets);

  // First: it hooks into each route as it is added.
  if (metrics) measureRequests(app, metrics);
  await app.register(fastifyCookie, { secret: cookieSecret });
  await app.register(fastifyMultipart, {
    // One byte over the limit: the parser silently truncates a file at fileSize, so it must let
    // through enough for the upload meter to see the file is too large and answer 413. One file
    // over the form's too, so that the route names the limit (upload-body.ts).
    limits: { fileSize: config.max_upload_size + 1, files: FORM_FILES + 1, fields: 20, fieldSize: 4096, parts: 50, headerPairs: 100 },
  });
  app.addContentTypeParser(rawBodyTypes, (_request, payload, done) => { done(null, payload); });
  await assets.register(app);

  app.addHook('onRequest', refuseOversizeBodies(config.max_upload_size));

  // A callback, not an async function: it runs on every answer, and a promise per answer costs.
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.headers(EVERY_RESPONSE_HEADERS).header(REQUEST_ID_HEADER, request.id);
    if (String(reply.getHeader('content-type') ?? '').startsWith('text/html')) {
      // A rendered page carries its own, admitting its <style> block by nonce (views.ts).
      if (!reply.hasHeader('content-security-policy')) reply.header('content-security-policy', pageCsp());
      reply.header('x-frame-options', 'DENY');
    }
    done(null, payload);
  });

  app.setErrorHandler(errorHandler(async (reply, body, detail) => {
    await views.send(reply, 'error', { ...body, detail });
  }, config.debug));

  app.setNotFoundHandler({}, async (request, reply) => {
    reply.code(404);
    if (request.headers.accept?.includes('text/html') && !underImages(request.url)) {
      await views.send(reply, 'error', { status: 404, error: 'NOT_FOUND', message: 'page not found', request_id: request.id, detail: null });
    } else {
      await reply.send({ status: 404, error: 'NOT_FOUND', message: 'not found', request_id: request.id });
    }
  });

  const xsrf = new Xsrf(config.xsrf_cookies);
  const uploads = {
    limit: await uploadRateLimit(app, config, library.repo.sharedHits), auth: new UploadAuth(config, library.repo.accounts), sameSite: sameSiteOnly(base),
  };
  healthRoutes(app, library);
  imageRoutes(app, library, config);
  apiRoutes(app, library, { ...config, publicBase: base }, uploads);
  pageRoutes(app, library, views, xsrf, { ...config, publicBase: base }, uploads);
  deletePageRoutes(app, library, views, xsrf, { ...config, publicBase: base });
  uploaderRoutes(app, base, uploads);
  return app;
}
