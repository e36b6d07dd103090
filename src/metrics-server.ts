// GET /metrics on a listener of its own (--metrics_address, --metrics_port), never on the public
// port: a scrape target is for the operator's Prometheus, not for the site's visitors. A worker
// of `serve --workers` opens none: it answers its supervisor, which serves the sum of them all.
import cluster from 'node:cluster';
import { createServer } from 'node:http';
import { once } from 'node:events';
import { AggregatorRegistry, type Registry } from 'prom-client';
import type { Config } from './config/options.js';

export type MetricsOptions = Pick<Config, 'metrics_address' | 'metrics_port'>;

export interface MetricsListener {
  /** e.g. http://127.0.0.1:9464/metrics */
  url: string;
  close(): Promise<void>;
}

/** Serves `render()` at /metrics; anything else is 404. */
export async function listenForScrapes(opts: MetricsOptions, contentType: string, render: () => Promise<string>): Promise<MetricsListener> {
  const server = createServer((request, response) => {
    if (request.url !== '/metrics' || (request.method !== 'GET' && request.method !== 'HEAD')) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    render().then((body) => {
      response.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' }).end(request.method === 'HEAD' ? undefined : body);
    }, (err: unknown) => {
      response.writeHead(503, { 'content-type': 'text/plain' }).end(`metrics unavailable: ${err instanceof Error ? err.message : String(err)}\n`);
    });
  });
  server.listen(opts.metrics_port, opts.metrics_address);
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : opts.metrics_port;
  const host = opts.metrics_address.includes(':') ? `[${opts.metrics_address}]` : opts.metrics_address;
  return {
    url: `http://${host}:${String(port)}/metrics`,
    close: () => new Promise((resolve) => { server.close(() => { resolve(); }); server.closeAllConnections(); }),
  };
}

/** A server's own metrics: on their listener, or, in a worker, handed to the supervisor when it asks (null). */
export async function exposeMetrics(opts: MetricsOptions, registry: Registry): Promise<MetricsListener | null> {
  if (cluster.isWorker) {
    AggregatorRegistry.setRegistries([registry]);
    // Its construction is what makes a worker answer the supervisor's requests (prom-client's cluster.js).
    new AggregatorRegistry();
    return null;
  }
  return listenForScrapes(opts, registry.contentType, () => registry.metrics());
}

/** The supervisor's: the metrics of all its workers, summed per series, in one scrape. */
export function exposeClusterMetrics(opts: MetricsOptions): Promise<MetricsListener> {
  const aggregator = new AggregatorRegistry();
  return listenForScrapes(opts, aggregator.contentType, () => aggregator.clusterMetrics());
}
