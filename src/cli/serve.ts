// `imghost serve`: runs the web server until SIGTERM or SIGINT, then shuts down gracefully.
// With --workers N, this process only supervises N workers (Node's cluster module) that share
// the port, and replaces any that dies.
import cluster, { type Worker } from 'node:cluster';
import { setFlagsFromString } from 'node:v8';
import type { Logger } from 'pino';
import type { Config } from '../config/options.js';
import type { Invocation } from '../config/parse.js';
import { openServiceWarning } from '../exposure.js';
import { createLogger } from '../log.js';

/** Which worker slot a process fills; kept across restarts so each slot keeps its log files. */
const SLOT = 'IMGHOST_WORKER_SLOT';

const stopSignal = (): Promise<NodeJS.Signals> => new Promise((resolve) => {
  process.once('SIGTERM', resolve);
  process.once('SIGINT', resolve);
});

export async function serve({ config }: Invocation): Promise<number> {
  const slot = process.env[SLOT];
  // Several processes must not rotate one log file: each worker slot writes its own.
  const logConfig = slot !== undefined && config.log_file_prefix !== ''
    ? { ...config, log_file_prefix: `${config.log_file_prefix}.worker${slot}` }
    : config;
  const logger = createLogger(logConfig);
  const open = openServiceWarning(config);
  if (open !== null && cluster.isPrimary) logger.warn({ address: config.address, port: config.port }, open);
  const code = config.workers > 1 && cluster.isPrimary ? await supervise(config, logger) : await run(config, logger);
  logger.flush();
  // A worker's channel to the supervisor would keep it alive after the server has closed.
  cluster.worker?.disconnect();
  return code;
}

/**
 * How much V8's heap may grow past what a full collection left before the next one: 3x, where
 * V8 would pick about 2.4x for a server's small heap (about 17 MB live). Uploads arrive as
 * buffers outside the heap, which V8 counts towards that growth: with its own choice, a stream
 * of uploads brought a full collection every few uploads (4 ms of CPU per 4 MP upload, and
 * 5-15 ms pauses in the GETs served meanwhile); with this, none (docs/performance.md). Read by
 * V8 each time it sets the next limit, so it applies from here on. A factor given to Node
 * (`node --heap-growing-percent=N`, or in NODE_OPTIONS) is left as given.
 */
const HEAP_GROWING_PERCENT = 200;

async function run(config: Config, logger: Logger): Promise<number> {
  const given = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].some((arg) => arg.includes('heap-growing-percent'));
  if (!given) setFlagsFromString(`--heap-growing-percent=${String(HEAP_GROWING_PERCENT)}`);
  // Loaded here, not at the top: a supervisor never serves, and the server's modules (Fastify,
  // sharp, the database drivers) would cost it about 50 MB of memory for nothing.
  const { startServer } = await import('../start-server.js');
  const server = await startServer(config, logger);
  logger.info({ url: server.url, data_dir: config.data_dir, pid: process.pid, metrics: server.metricsUrl ?? undefined }, 'imghost is ready');
  const signal = await stopSignal();
  logger.info({ signal }, 'shutting down: finishing in-flight requests');
  await server.close();
  logger.info('stopped');
  return 0;
}

async function supervise(config: Config, logger: Logger): Promise<number> {
  let stopping = false;
  const slots = new Map<Worker, number>();
  const start = (slot: number): void => {
    slots.set(cluster.fork({ [SLOT]: String(slot) }), slot);
  };
  cluster.on('exit', (worker, code, signal) => {
    const slot = slots.get(worker) ?? 0;
    slots.delete(worker);
    if (stopping) return;
    logger.error({ pid: worker.process.pid, code, signal, slot }, 'worker died; starting a new one');
    // A worker that dies at once (bad config, port taken) would otherwise be restarted in a tight loop.
    setTimeout(() => { if (!stopping) start(slot); }, 1000);
  });
  // Loaded only when asked for: prom-client is all a supervisor loads for it. Listening before
  // any worker starts: a port taken fails the start-up with no worker left behind.
  const scrapes = config.metrics_port > 0 ? await (await import('../metrics-server.js')).exposeClusterMetrics(config) : null;
  for (let slot = 0; slot < config.workers; slot++) start(slot);
  logger.info({ workers: config.workers, pid: process.pid, metrics: scrapes?.url }, 'supervising workers');

  const signal = await stopSignal();
  stopping = true;
  logger.info({ signal }, 'stopping workers');
  const exited = [...slots.keys()].map((worker) => new Promise((resolve) => { worker.once('exit', resolve); }));
  for (const worker of slots.keys()) worker.process.kill('SIGTERM');
  await Promise.all([...exited, scrapes?.close()]);
  logger.info('stopped');
  return 0;
}
