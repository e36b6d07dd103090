// The server's Prometheus metrics: one registry per server, filled by the HTTP hooks
// (http/request-metrics.ts), the timed storage adapters (timed-storage.ts), the encode wrapper
// below, and read at scrape time from the work pool and the small-blob cache.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { blobCacheStats } from './http/blob-cache.js';
import type { WorkPool } from './images/pool.js';
import type { MakeRendition } from './images/thumbnailer.js';
import { FastCounter, FastHistogram } from './metric-series.js';

/** Requests are mostly milliseconds; uploads of large files take seconds. */
const REQUEST_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Database and store operations: sub-millisecond on SQLite and local files, tens of ms over a network. */
const OPERATION_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5];
/** An encode: tens of milliseconds for a thumbnail, seconds for a large AVIF. */
const ENCODE_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export type StorageKind = 'db' | 'store';

export class Metrics {
  readonly registry = new Registry();

  readonly requests = new FastCounter('imghost_http_requests_total', 'HTTP requests answered, by method, route pattern and status', this.registry);

  readonly requestSeconds = new FastHistogram('imghost_http_request_duration_seconds',
    'Time from a request\'s arrival to its answer sent, by method and route pattern', REQUEST_BUCKETS, this.registry);

  readonly uploads = new Counter({
    name: 'imghost_uploads_total', help: 'Upload requests by status and reason (the error code of a refusal, "stored" for 201)',
    labelNames: ['status', 'reason'] as const, registers: [this.registry],
  });

  readonly encodeSeconds = new Histogram({
    name: 'imghost_encode_duration_seconds', help: 'Thumbnail and variant encodes (decode, resize, encode), by kind and outcome',
    labelNames: ['kind', 'outcome'] as const, buckets: ENCODE_BUCKETS, registers: [this.registry],
  });

  readonly receivedBytes = new Counter({
    name: 'imghost_received_bytes_total', help: 'Bytes of uploaded files received, refused ones included', registers: [this.registry],
  });

  readonly storedBytes = new Counter({
    name: 'imghost_stored_bytes_total', help: 'Bytes written to the blob store (originals, thumbnails, variants)', registers: [this.registry],
  });

  readonly operationSeconds = {
    db: new FastHistogram('imghost_db_operation_duration_seconds', 'Database operations by adapter and operation', OPERATION_BUCKETS, this.registry),
    store: new FastHistogram('imghost_blob_store_operation_duration_seconds', 'Blob store operations by adapter and operation (a read: until the stream opens)',
      OPERATION_BUCKETS, this.registry),
  };

  readonly operationErrors = {
    db: new FastCounter('imghost_db_operation_errors_total', 'Database operations that failed, by adapter and operation', this.registry),
    store: new FastCounter('imghost_blob_store_operation_errors_total', 'Blob store operations that failed (a missing blob included), by adapter and operation', this.registry),
  };

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    const registers = [this.registry];
    new Counter({
      name: 'imghost_blob_cache_hits_total', help: 'Small blobs answered from memory', registers,
      collect() { this.reset(); this.inc(blobCacheStats.hits); },
    });
    new Counter({
      name: 'imghost_blob_cache_misses_total', help: 'Small blobs read from the store into memory', registers,
      collect() { this.reset(); this.inc(blobCacheStats.misses); },
    });
  }

  /** The work pool's jobs running and waiting, read at each scrape. */
  watchPool(pool: WorkPool): void {
    const registers = [this.registry];
    new Gauge({ name: 'imghost_work_pool_active', help: 'Image jobs (thumbnails, variants) running', registers, collect() { this.set(pool.active); } });
    new Gauge({ name: 'imghost_work_pool_waiting', help: 'Image jobs waiting for a slot (the queue --queue_limit bounds)', registers, collect() { this.set(pool.waiting); } });
  }

  /** `make`, its encodes timed as `kind` (thumbnail, variant). */
  timedEncodes(make: MakeRendition, kind: 'thumbnail' | 'variant'): MakeRendition {
    const ok = this.encodeSeconds.labels(kind, 'ok');
    const failed = this.encodeSeconds.labels(kind, 'error');
    return async (...args) => {
      const start = performance.now();
      try {
        const made = await make(...args);
        ok.observe((performance.now() - start) / 1000);
        return made;
      } catch (err) {
        failed.observe((performance.now() - start) / 1000);
        throw err;
      }
    };
  }

  /** The Prometheus text exposition of everything. */
  render(): Promise<string> {
    return this.registry.metrics();
  }
}
