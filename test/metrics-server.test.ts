// `imghost serve --workers N --metrics_port P`: the supervisor answers the scrape with the metrics
// of all its workers summed, so one scrape sees the whole node.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { request } from 'node:http';
import { describe, it } from 'node:test';
import { solid } from './helpers/images.js';
import { sample } from './helpers/metrics.js';
import { eventually, freePort, serveCli, stopCli } from './helpers/process.js';
import { tempDir } from './helpers/server.js';

/** POSTs a raw image on a connection of its own, so that successive uploads may land on different workers. */
const uploadAlone = (url: string, body: Buffer): Promise<number> => new Promise((resolve, reject) => {
  const req = request(`${url}/api/images`, { method: 'POST', agent: false, headers: { 'content-type': 'image/png', 'content-length': body.length } }, (res) => {
    res.resume();
    res.on('end', () => { resolve(res.statusCode ?? 0); });
  });
  req.on('error', reject);
  req.end(body);
});

/** Pids of the processes that logged an answer to an upload. */
const uploadPids = (stderr: string): Set<number> => new Set(stderr.split('\n')
  .filter((line) => line.includes('"request completed"') && line.includes('/api/images'))
  .map((line) => (JSON.parse(line) as { pid: number }).pid));

describe('metrics of serve --workers', () => {
  it('are the sum of every worker\'s, scraped from the supervisor', async (t) => {
    const dir = await tempDir('imghost-metrics-workers-');
    t.after(() => rm(dir, { recursive: true, force: true }));
    const [port, metricsPort] = [await freePort(), await freePort()];
    const server = await serveCli(t, port, [`--port=${String(port)}`, `--metrics_port=${String(metricsPort)}`, `--data_dir=${dir}`, '--workers=2']);
    const scrapeUrl = `http://127.0.0.1:${String(metricsPort)}/metrics`;
    // Both workers up: the supervisor asks each, and one still starting would not answer.
    await eventually('two workers to be ready', () => server.output.stderr().split('\n').filter((line) => line.includes('"imghost is ready"')).length === 2, 20_000);

    const uploads = 6;
    for (let i = 0; i < uploads; i++) assert.equal(await uploadAlone(server.url, await solid(20 + i, 20, '#446688')), 201);
    const pids = await eventually('the uploads\' log lines', () => {
      const seen = uploadPids(server.output.stderr());
      return seen.size === 2 ? seen : undefined;
    });
    assert.equal(pids.size, 2, 'the uploads were spread over both workers');

    const scrape = await fetch(scrapeUrl);
    assert.equal(scrape.status, 200);
    const text = await scrape.text();
    assert.equal(sample(text, 'imghost_uploads_total', { status: '201', reason: 'stored' }), uploads);
    assert.equal(sample(text, 'imghost_http_requests_total', { method: 'POST', route: '/api/images', status: '201' }), uploads);
    assert.equal(sample(text, 'imghost_encode_duration_seconds_count', { kind: 'thumbnail', outcome: 'ok' }), uploads);
    assert.equal(sample(text, 'imghost_work_pool_waiting'), 0);
    // The public port still has no /metrics.
    assert.equal((await fetch(`${server.url}/metrics`)).status, 404);
    await stopCli(server);
  });
});
