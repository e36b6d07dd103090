// Probes for load balancers (/healthz: the process runs; /readyz: its storage answers), and the
// error pages of debug mode.
import assert from 'node:assert/strict';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { textOf } from '../helpers/html.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

interface Readiness { status: string; checks: Record<string, boolean>; down: string[] }

const readyz = async (s: TestServer) => {
  const res = await s.fetch('/readyz');
  return { status: res.status, body: await res.json() as Readiness };
};

describe('GET /healthz and GET /readyz on a healthy server', () => {
  let s: TestServer;
  before(async () => { s = await startTestServer(); });
  after(() => s.close());

  it('/healthz answers 200 {status: "ok"}', async () => {
    const res = await s.fetch('/healthz');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(await res.json(), { status: 'ok' });
  });

  it('/readyz answers 200 with the database and the blob store both up', async () => {
    const { status, body } = await readyz(s);
    assert.equal(status, 200);
    assert.deepEqual(body, { status: 'ready', checks: { db: true, store: true }, down: [] });
  });
});

describe('GET /readyz when the blob store is gone', () => {
  let s: TestServer;
  before(async () => { s = await startTestServer(); });
  after(() => s.close());

  it('answers 503 naming the store as down, while /healthz stays 200', async () => {
    assert.equal((await readyz(s)).status, 200);
    await rm(join(s.dataDir, 'blobs'), { recursive: true, force: true });

    const { status, body } = await readyz(s);
    assert.equal(status, 503);
    assert.deepEqual(body, { status: 'unavailable', checks: { db: true, store: false }, down: ['store'] });

    const health = await s.fetch('/healthz');
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'ok' });
  });

  it('answers 200 again once the store is back (nothing is cached)', async () => {
    await mkdir(join(s.dataDir, 'blobs', '.tmp'), { recursive: true });
    const { status, body } = await readyz(s);
    assert.equal(status, 200);
    assert.deepEqual(body.down, []);
  });
});

describe('GET /readyz when the database stops answering', () => {
  let s: TestServer;
  before(async () => { s = await startTestServer(); });
  after(() => s.close());

  it('answers 503 naming the database as down, not a 500', async () => {
    await s.server.library.repo.close();
    const { status, body } = await readyz(s);
    assert.equal(status, 503);
    assert.deepEqual(body, { status: 'unavailable', checks: { db: false, store: true }, down: ['db'] });
    assert.equal((await s.fetch('/healthz')).status, 200);
  });
});

describe('error pages in debug mode', () => {
  let s: TestServer;
  before(async () => { s = await startTestServer({ debug: true }); });
  after(() => s.close());

  const page = async (path: string) => {
    const res = await s.fetch(path, { headers: { accept: 'text/html' } });
    const html = await res.text();
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/, path);
    return { status: res.status, html, text: textOf(html) };
  };

  it('still render the 404 page of an unknown route', async () => {
    const { status, text } = await page('/nowhere');
    assert.equal(status, 404);
    assert.match(text, /404 page not found/);
  });

  it('render the 404 page of an unknown image with the error detail', async () => {
    const { status, html, text } = await page('/i/AAAAAAAAAAAAAAAA');
    assert.equal(status, 404);
    assert.match(text, /image not found/);
    assert.match(/<pre class="detail">([\s\S]*?)<\/pre>/.exec(html)?.[1] ?? '', /NotFound: image not found\s+at /);
  });

  it('still render the pages themselves', async () => {
    const { status, text } = await page('/');
    assert.equal(status, 200);
    assert.match(text, /Upload images/);
  });
});

describe('error pages outside debug mode', () => {
  let s: TestServer;
  before(async () => { s = await startTestServer({ debug: false }); });
  after(() => s.close());

  it('never show a stack trace', async () => {
    const res = await s.fetch('/i/AAAAAAAAAAAAAAAA', { headers: { accept: 'text/html' } });
    assert.equal(res.status, 404);
    const html = await res.text();
    assert.match(textOf(html), /image not found/);
    assert.doesNotMatch(html, /class="detail"|\bat .*\.ts:\d+/);
  });
});
