// Starts a server from a Config: opens the library, sweeps what a crash left, listens.
// Used by `imghost serve` and by the tests, so both run exactly the same code.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { backfillFrames } from './backfill-frames.js';
import type { Config } from './config/options.js';
import { Library } from './library.js';
import { buildApp } from './http/app.js';
import { randomToken } from './ids.js';
import { Metrics } from './metrics.js';
import { exposeMetrics, type MetricsListener } from './metrics-server.js';
import { dbUrl } from './open-storage.js';
import { repeatUntilAborted } from './periodic.js';

/** Ids of expired images a sweep's log line names: a mass expiry logs a count, not a list. */
const LOGGED_IDS = 20;

export interface RunningServer {
  app: FastifyInstance;
  library: Library;
  /** e.g. http://127.0.0.1:8000 */
  url: string;
  /** Where Prometheus scrapes this server: null when --metrics_port is 0, or in a worker (its supervisor serves them). */
  metricsUrl: string | null;
  /** Stops accepting, lets in-flight requests finish within shutdown_timeout, closes the stores. */
  close(): Promise<void>;
}

/** The configured cookie secret, or one generated once and kept beside the data. */
async function cookieSecret(config: Config): Promise<string> {
  if (config.cookie_secret !== '') return config.cookie_secret;
  const path = resolve(config.data_dir, 'secret');
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await mkdir(config.data_dir, { recursive: true });
  const secret = randomToken(32);
  // 'wx': if another process created it first, theirs wins and both read the same secret.
  await writeFile(path, `${secret}\n`, { mode: 0o600, flag: 'wx' }).catch((err: unknown) => {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  });
  return (await readFile(path, 'utf8')).trim();
}

export async function startServer(config: Config, logger: Logger): Promise<RunningServer> {
  let closing: Promise<void> | null = null;
  if (config.cookie_secret === '' && !dbUrl(config).startsWith('sqlite:')) {
    logger.warn('--cookie_secret is not set: with a shared database, give every node the same secret or form posts fail on all but one');
  }
  // Nothing is measured when nobody scrapes: off, metrics cost nothing.
  const metrics = config.metrics_port > 0 ? new Metrics() : undefined;
  const library = await Library.open(config, metrics);
  let app: FastifyInstance;
  let scrapes: MetricsListener | null = null;
  try {
    app = await buildApp({ config, library, logger, cookieSecret: await cookieSecret(config), metrics });
    // Closing only reaps connections idle at that moment: a keep-alive connection whose response
    // was still being sent turns idle later and would hold the shutdown until its timeout.
    app.addHook('onResponse', (_request, _reply, done) => {
      if (closing !== null) app.server.closeIdleConnections();
      done();
    });
    if (metrics) scrapes = await exposeMetrics(config, metrics.registry);
    await app.listen({ port: config.port, host: config.address });
  } catch (err) {
    await scrapes?.close();
    await library.close();
    throw err;
  }
  // Leftovers of a crash are swept in the background: readiness does not wait for it.
  library.collectGarbage().then((report) => {
    const total = report.expired.length + report.unfinished.length + report.blobs.length + report.temp.length + report.restored.length;
    if (total > 0) logger.info(report, 'startup sweep removed leftovers');
  }, (err: unknown) => { logger.warn({ err }, 'startup sweep failed'); });
  // So are the frames of images stored before frames were counted at upload; never rejects.
  const stopCounting = new AbortController();
  const counting = backfillFrames(library.repo, library.store,
    { tmpDir: resolve(config.data_dir, 'tmp'), maxFrames: config.max_frames, log: logger, signal: stopCounting.signal });

  // Images past their expiry go expiry_sweep seconds after the last sweep ended, on every node:
  // each batch is removed by one statement, so no two nodes remove the same image.
  const stopSweeping = new AbortController();
  const sweeping = repeatUntilAborted(config.expiry_sweep * 1000, stopSweeping.signal, () => library.removeExpired().then((ids) => {
    if (ids.length > 0) logger.info({ removed: ids.length, ids: ids.slice(0, LOGGED_IDS) }, 'expired images removed');
  }, (err: unknown) => { logger.warn({ err }, 'expiry sweep failed'); }));

  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.address === '0.0.0.0' || config.address === '::' ? '127.0.0.1' : config.address;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      stopCounting.abort();
      stopSweeping.abort();
      const timer = setTimeout(() => { app.server.closeAllConnections(); }, config.shutdown_timeout * 1000);
      try {
        await app.close();
      } finally {
        clearTimeout(timer);
        await Promise.all([counting, sweeping, scrapes?.close()]);
        await library.close();
      }
    })();
    return closing;
  };
  return { app, library, url: `http://${host.includes(':') ? `[${host}]` : host}:${String(port)}`, metricsUrl: scrapes?.url ?? null, close };
}
