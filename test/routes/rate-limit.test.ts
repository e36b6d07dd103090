// Upload rate limiting per client IP: 429 with Retry-After in the usual error shape, before the
// body is read, one allowance across the API and the form, X-Forwarded-For believed only from
// --trusted_proxies, and the allowance back once the window has passed.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { streamedInit, stalled } from '../helpers/bodies.js';
import { photo, solid } from '../helpers/images.js';
import { multipart, startTestServer, type TestServer } from '../helpers/server.js';

interface ErrorJson { status: number; error: string; message: string }

async function assertLimited(res: Response, window: number): Promise<void> {
  assert.equal(res.status, 429);
  const retryAfter = Number(res.headers.get('retry-after'));
  assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= window, `Retry-After ${String(retryAfter)}`);
  const body = await res.json() as ErrorJson;
  assert.deepEqual([body.status, body.error], [429, 'RATE_LIMITED']);
  assert.match(body.message, /too many uploads/);
}

const forwardedFor = (chain: string) => ({ 'x-forwarded-for': chain });

describe('--upload_rate_limit', () => {
  let s: TestServer;
  let image: Buffer;
  before(async () => {
    s = await startTestServer({ upload_rate_limit: 3, upload_rate_window: 60, xsrf_cookies: false });
    image = await solid(8, 8, '#336699');
  });
  after(() => s.close());

  it('answers the upload after the limit with 429, Retry-After and the usual JSON error, storing nothing', async () => {
    for (let i = 0; i < 2; i++) await s.uploadOk(image);
    // The form draws on the same allowance as the API.
    const form = await s.fetch('/', { method: 'POST', body: multipart(image), headers: { accept: 'application/json' } });
    assert.equal(form.status, 201);
    await form.arrayBuffer();
    const stored = (await s.server.library.list(100)).length;
    await assertLimited(await s.upload(image), 60);
    assert.equal((await s.server.library.list(100)).length, stored);
  });

  it('answers the form with the error page, and a client still sending before its body is read', async () => {
    const page = await s.fetch('/', { method: 'POST', body: multipart(image), headers: { accept: 'text/html' } });
    assert.equal(page.status, 429);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    assert.ok(page.headers.has('retry-after'));
    assert.match(await page.text(), /too many uploads/);
    const stalledUpload = await s.fetch('/api/images', streamedInit(stalled(await photo(400, 300)), 'image/jpeg'));
    await assertLimited(stalledUpload, 60);
  });

  it('is not escaped by a made-up X-Forwarded-For from a peer that is not a trusted proxy', async () => {
    for (const chain of ['203.0.113.7', '198.51.100.1, 203.0.113.8', '::1']) {
      await assertLimited(await s.upload(image, { headers: forwardedFor(chain) }), 60);
    }
  });

  it('limits only uploads: reading and listing go on', async () => {
    for (let i = 0; i < 10; i++) {
      const res = await s.fetch('/api/images');
      await res.arrayBuffer();
      assert.equal(res.status, 200);
    }
  });
});

describe('--upload_rate_limit behind --trusted_proxies', () => {
  let s: TestServer;
  let image: Buffer;
  before(async () => {
    s = await startTestServer({ upload_rate_limit: 2, upload_rate_window: 60, trusted_proxies: '10.9.9.9, 127.0.0.1/32' });
    image = await solid(8, 8, '#993366');
  });
  after(() => s.close());

  it('counts each client the proxy names separately, by the address the proxy saw', async () => {
    for (let i = 0; i < 2; i++) await s.uploadOk(image, { headers: forwardedFor('192.0.2.1') });
    await assertLimited(await s.upload(image, { headers: forwardedFor('192.0.2.1') }), 60);
    // Addresses the client itself put in front of the chain change nothing: the proxy's entry counts.
    await assertLimited(await s.upload(image, { headers: forwardedFor('192.0.2.77, 192.0.2.1') }), 60);
    await s.uploadOk(image, { headers: forwardedFor('192.0.2.2') });
    // Requests from the proxy host itself, naming no client, are the proxy's own allowance.
    await s.uploadOk(image);
  });
});

describe('--upload_rate_window', () => {
  let s: TestServer;
  before(async () => { s = await startTestServer({ upload_rate_limit: 1, upload_rate_window: 1 }); });
  after(() => s.close());

  it('gives the allowance back once Retry-After has passed', async () => {
    const image = await solid(8, 8, '#669933');
    await s.uploadOk(image);
    const limited = await s.upload(image);
    const wait = Number(limited.headers.get('retry-after'));
    await assertLimited(limited, 1);
    await sleep(wait * 1000 + 50);
    await s.uploadOk(image);
  });
});
