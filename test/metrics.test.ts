// Prometheus metrics: with --metrics_port, a scrape of /metrics on that port (never on the public
// one) shows the requests, uploads, encodes, work pool, bytes, storage timings and cache lookups.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WorkPool } from '../src/images/pool.js';
import { Metrics } from '../src/metrics.js';
import { solid } from './helpers/images.js';
import { sample } from './helpers/metrics.js';
import { freePort } from './helpers/process.js';
import { startTestServer, type TestServer } from './helpers/server.js';

/** The routes of originals and thumbnails, as Fastify names them. */
const [ORIGINALS, THUMBNAILS] = ['/imgs/:id/orig', '/imgs/:id/thumb'];

describe('metrics', () => {
  let server: TestServer;
  let scrape: () => Promise<string>;
  let stored = 0;
  before(async () => {
    server = await startTestServer({ metrics_port: await freePort(), max_upload_size: 64 * 1024 });
    const url = server.server.metricsUrl;
    assert.ok(url !== null);
    scrape = async () => {
      const res = await fetch(url);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
      return res.text();
    };
    const image = await server.uploadOk(await solid(300, 200, '#336699'));
    stored = image.bytes;
    assert.equal((await server.fetch('/api/images', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' })).status, 415);
    assert.equal((await server.upload(Buffer.alloc(100 * 1024, 7))).status, 413);
    for (let i = 0; i < 3; i++) assert.equal((await server.fetch(image.thumb_url)).status, 200);
    assert.equal((await server.fetch(image.thumb_url, { method: 'HEAD' })).status, 200);
    assert.equal((await server.fetch(`/imgs/${image.id}/small`)).status, 200);
    // A second image whose original's file is lost: its GET is a failed read of the store.
    const lost = await server.uploadOk(await solid(120, 80, '#993366'));
    await rm(join(server.dataDir, 'blobs', lost.sha256.slice(0, 2), lost.sha256.slice(2, 4), lost.sha256));
    assert.equal((await server.fetch(lost.url)).status, 404);
  });
  after(() => server.close());

  it('answers on its own port only: the public port has no /metrics', async () => {
    assert.equal((await server.fetch('/metrics')).status, 404);
    assert.match(server.server.metricsUrl ?? '', /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    assert.equal((await fetch(new URL('/other', server.server.metricsUrl ?? ''))).status, 404);
  });

  it('counts requests by method, route pattern and status, and times them', async () => {
    const text = await scrape();
    assert.equal(sample(text, 'imghost_http_requests_total', { method: 'POST', route: '/api/images', status: '201' }), 2);
    assert.equal(sample(text, 'imghost_http_requests_total', { method: 'POST', route: '/api/images', status: '415' }), 1);
    assert.equal(sample(text, 'imghost_http_requests_total', { method: 'POST', route: '/api/images', status: '413' }), 1);
    assert.equal(sample(text, 'imghost_http_requests_total', { method: 'GET', route: THUMBNAILS, status: '200' }), 3);
    assert.equal(sample(text, 'imghost_http_requests_total', { method: 'HEAD', route: THUMBNAILS, status: '200' }), 1);
    assert.equal(sample(text, 'imghost_http_requests_total', { method: 'GET', route: 'unmatched', status: '404' }), 1);
    // Route patterns, never the URLs asked for: no image id appears in any label.
    assert.doesNotMatch(text, /route="\/imgs\/[A-Za-z0-9_-]{6,}/);
    assert.equal(sample(text, 'imghost_http_requests_total', { method: 'GET', route: ORIGINALS, status: '404' }), 1);
    // Timed by route and method, whatever the status: three thumbnails, and the lost original.
    assert.equal(sample(text, 'imghost_http_request_duration_seconds_count', { method: 'GET', route: THUMBNAILS }), 3);
    assert.equal(sample(text, 'imghost_http_request_duration_seconds_bucket', { method: 'GET', route: THUMBNAILS, le: '+Inf' }), 3);
    assert.equal(sample(text, 'imghost_http_request_duration_seconds_count', { method: 'GET', route: ORIGINALS }), 1);
  });

  it('counts uploads by outcome: stored, and each refusal by its error code', async () => {
    const text = await scrape();
    assert.equal(sample(text, 'imghost_uploads_total', { status: '201', reason: 'stored' }), 2);
    assert.equal(sample(text, 'imghost_uploads_total', { status: '415', reason: 'UNSUPPORTED_BODY' }), 1);
    assert.equal(sample(text, 'imghost_uploads_total', { status: '413', reason: 'TOO_LARGE' }), 1);
  });

  it('times thumbnail and variant encodes, and shows the work pool', async () => {
    const text = await scrape();
    assert.equal(sample(text, 'imghost_encode_duration_seconds_count', { kind: 'thumbnail', outcome: 'ok' }), 2);
    assert.ok((sample(text, 'imghost_encode_duration_seconds_count', { kind: 'variant', outcome: 'ok' }) ?? 0) >= 1);
    assert.equal(sample(text, 'imghost_work_pool_active'), 0);
    assert.equal(sample(text, 'imghost_work_pool_waiting'), 0);
  });

  it('counts bytes received and stored', async () => {
    const text = await scrape();
    // The stored image and the refused 100 KiB file, read up to just past the 64 KiB limit.
    assert.ok((sample(text, 'imghost_received_bytes_total') ?? 0) > stored + 64 * 1024);
    // The original, its thumbnail and its variant.
    assert.ok((sample(text, 'imghost_stored_bytes_total') ?? 0) > stored);
  });

  it('times database and blob store operations by adapter', async () => {
    const text = await scrape();
    assert.ok((sample(text, 'imghost_db_operation_duration_seconds_count', { adapter: 'sqlite', operation: 'insertPending' }) ?? 0) >= 1);
    assert.ok((sample(text, 'imghost_db_operation_duration_seconds_count', { adapter: 'sqlite', operation: 'get' }) ?? 0) >= 4);
    assert.ok((sample(text, 'imghost_blob_store_operation_duration_seconds_count', { adapter: 'fs', operation: 'put' }) ?? 0) >= 2);
    assert.equal(sample(text, 'imghost_blob_store_operation_errors_total', { adapter: 'fs', operation: 'put' }), undefined);
    assert.equal(sample(text, 'imghost_blob_store_operation_errors_total', { adapter: 'fs', operation: 'read' }), 1);
  });

  it('counts small-blob cache hits and misses, and the process metrics', async () => {
    const text = await scrape();
    // Three GETs of one thumbnail: read once, then answered from memory.
    assert.ok((sample(text, 'imghost_blob_cache_misses_total') ?? 0) >= 1);
    assert.ok((sample(text, 'imghost_blob_cache_hits_total') ?? 0) >= 2);
    assert.ok((sample(text, 'process_resident_memory_bytes') ?? 0) > 0);
    assert.ok(sample(text, 'nodejs_eventloop_lag_seconds') !== undefined);
  });
});

describe('the work pool gauges', () => {
  it('read the jobs running and waiting at each scrape', async () => {
    const metrics = new Metrics();
    const pool = new WorkPool(1, 5);
    metrics.watchPool(pool);
    let finish = (): void => undefined;
    const blocked = new Promise<void>((resolve) => { finish = resolve; });
    const jobs = [pool.run(() => blocked), pool.run(() => Promise.resolve()), pool.run(() => Promise.resolve())];
    await new Promise((resolve) => setImmediate(resolve));
    const busy = await metrics.render();
    assert.equal(sample(busy, 'imghost_work_pool_active'), 1);
    assert.equal(sample(busy, 'imghost_work_pool_waiting'), 2);
    finish();
    await Promise.all(jobs);
    const idle = await metrics.render();
    assert.equal(sample(idle, 'imghost_work_pool_active'), 0);
    assert.equal(sample(idle, 'imghost_work_pool_waiting'), 0);
  });
});
