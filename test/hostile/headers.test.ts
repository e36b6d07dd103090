// Security headers on every kind of answer, including errors, 404s and the answers Fastify and
// Node give before any route runs: nosniff and a Referrer-Policy everywhere, a CSP that forbids
// framing on every page, a sandbox on every image answer, and images only ever typed as the
// format their bytes were detected as. (test/routes/*.test.ts check the happy paths' headers.)
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { photo, solid } from '../helpers/images.js';
import { startTestServer, type TestServer, type UploadedImage } from '../helpers/server.js';
import { assertRefusal } from './answers.js';
import { exchange, simpleRequest } from './raw-http.js';

const IMAGE_CSP = "default-src 'none'; sandbox";

describe('security headers', () => {
  let s: TestServer;
  let image: UploadedImage;
  before(async () => {
    s = await startTestServer({ request_timeout: 1, max_upload_size: 100_000 });
    image = await s.uploadOk(await photo(120, 80, 'jpeg'));
  });
  after(() => s.close());

  /** Every kind of answer the server gives, as [what, request]. */
  const answers = (): [string, () => Promise<Response>][] => {
    const html = { accept: 'text/html' };
    return [
      ['a page', () => s.fetch('/')],
      ['an image page', () => s.fetch(image.page_url)],
      ['an HTML 404 for an unknown image page', () => s.fetch('/i/AAAAAAAAAAAAAAAA', { headers: html })],
      ['an HTML 404 for an unknown path', () => s.fetch('/no/such/page', { headers: html })],
      ['an HTML 403 for a form post without its token', () => s.fetch('/', { method: 'POST', body: new FormData(), headers: html })],
      ['a JSON 404 for an unknown path', () => s.fetch('/no/such/thing')],
      ['a JSON list', () => s.fetch('/api/images')],
      ['a JSON image', () => s.fetch(`/api/images/${image.id}`)],
      ['a JSON 404 for an unknown image', () => s.fetch('/api/images/AAAAAAAAAAAAAAAA')],
      ['a 400 for a malformed query', () => s.fetch('/api/images?limit=abc')],
      ['a 400 for a non-image upload', () => s.upload(Buffer.from('text'))],
      ['a 413 for an announced body over the limit', () => s.fetch('/api/images', { method: 'POST', body: new Uint8Array(200_000), headers: { 'content-type': 'image/png' } })],
      ['a 415 for a body of the wrong type', () => s.fetch('/api/images', { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } })],
      ['a 403 for a wrong delete token', () => s.fetch(`/api/images/${image.id}`, { method: 'DELETE', headers: { 'x-delete-token': 'wrong' } })],
      ['a 400 for a URL that does not decode', () => s.fetch('/imgs/%zz/orig')],
      ['a 404 for an id longer than a route parameter', () => s.fetch(`/api/images/${'A'.repeat(500)}`)],
      ['an original', () => s.fetch(image.url)],
      ['a thumbnail', () => s.fetch(image.thumb_url)],
      ['a HEAD of an original', () => s.fetch(image.url, { method: 'HEAD' })],
      ['a 206 range', () => s.fetch(image.url, { headers: { range: 'bytes=0-9' } })],
      ['a 304', () => s.fetch(image.url, { headers: { 'if-none-match': `"${image.sha256}"` } })],
      ['a 416', () => s.fetch(image.url, { headers: { range: 'bytes=999999999-' } })],
      ['a 404 for an unknown image, even to a browser', () => s.fetch('/imgs/AAAAAAAAAAAAAAAA/orig', { headers: html })],
      ['/healthz', () => s.fetch('/healthz')],
      ['/readyz', () => s.fetch('/readyz')],
    ];
  };

  it('sends nosniff and a Referrer-Policy with every answer, errors and 404s included', async () => {
    for (const [what, request] of answers()) {
      const res = await request();
      await res.arrayBuffer();
      assert.ok(res.status < 500, `${what}: ${String(res.status)}`);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff', what);
      assert.equal(res.headers.get('referrer-policy'), 'strict-origin-when-cross-origin', what);
    }
  });

  it('gives every HTML answer a CSP without inline script that forbids framing, and X-Frame-Options', async () => {
    let pages = 0;
    for (const [what, request] of answers()) {
      const res = await request();
      await res.arrayBuffer();
      if (!(res.headers.get('content-type') ?? '').startsWith('text/html')) continue;
      pages++;
      const csp = res.headers.get('content-security-policy') ?? '';
      assert.match(csp, /frame-ancestors 'none'/, what);
      assert.match(csp, /script-src 'self'/, what);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/, what);
      assert.equal(res.headers.get('x-frame-options'), 'DENY', what);
    }
    assert.equal(pages, 5, 'the five HTML answers above were checked');
  });

  it('sandboxes every answer under /imgs/, and never types one as HTML', async () => {
    for (const [what, request] of answers()) {
      const res = await request();
      await res.arrayBuffer();
      if (!new URL(res.url).pathname.startsWith('/imgs/')) continue;
      assert.doesNotMatch(res.headers.get('content-type') ?? '', /html/, what);
      if (res.status === 404 || res.status === 400) continue;
      assert.equal(res.headers.get('content-security-policy'), IMAGE_CSP, what);
    }
  });

  it('answers every path under /imgs/ with JSON or image bytes, never HTML, even to a browser', async () => {
    const id = image.id;
    const paths = [
      '/imgs', '/imgs/', `/imgs/${id}`, `/imgs/${id}/`, `/imgs/${id}/orig/`, `/imgs/${id}/ORIG`, `/imgs/${id}/orig.html`,
      `/imgs/${id}/thumb/x`, `/imgs/${id}/orig?x=<b>`, '/imgs/AAAAAAAAAAAAAAAA/thumb', '/imgs/%3Cscript%3E/orig',
      `/%69mgs/${id}/nope`, `//imgs/${id}/orig.html`, '/imgs/%zz', `/imgs/${'A'.repeat(500)}/orig`,
    ];
    const browser = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };
    for (const path of paths) {
      for (const method of ['GET', 'HEAD', 'POST', 'DELETE', 'PUT']) {
        const answer = await exchange(s.url, simpleRequest(method, path, browser));
        const what = `${method} ${path}`;
        const type = answer.headers['content-type'] ?? '';
        assert.ok(answer.status !== null && answer.status < 500, `${what}: ${String(answer.status)}`);
        assert.doesNotMatch(type, /html/, what);
        assert.doesNotMatch(answer.headers['content-security-policy'] ?? '', /script-src/, `${what} has no page CSP`);
        if (answer.status >= 400) assert.match(type, /^application\/json/, what);
        else assert.match(type, /^image\//, what);
      }
    }
  });

  it('sends the same headers on the answers written before any route runs (timeouts, oversized headers, bad HTTP)', async () => {
    const timedOut = await exchange(s.url, 'GET / HTTP/1.1\r\nhost: localhost\r\n');
    const tooLong = await exchange(s.url, simpleRequest('GET', `/${'a'.repeat(20_000)}`));
    const garbage = await exchange(s.url, 'NOT HTTP\r\n\r\n');
    for (const [answer, status] of [[timedOut, 408], [tooLong, 431], [garbage, 400]] as const) {
      assert.equal(answer.status, status);
      assert.match(answer.headers['content-type'] ?? '', /^application\/json/);
      assert.equal(answer.headers['x-content-type-options'], 'nosniff');
      assert.equal(answer.headers['referrer-policy'], 'strict-origin-when-cross-origin');
      assert.equal((JSON.parse(answer.body) as { status: number }).status, status);
    }
  });

  it('serves an image uploaded as text/html with its detected type, and refuses a raw text/html body', async () => {
    const png = await solid(20, 20, '#102030');
    const claimed = await s.uploadOk(png, { filename: 'page.html', type: 'text/html' });
    assert.equal(claimed.mime, 'image/png');
    for (const [url, type] of [[claimed.url, 'image/png'], [claimed.thumb_url, claimed.thumb.mime]] as const) {
      const res = await s.fetch(url, { headers: { accept: 'text/html' } });
      await res.arrayBuffer();
      assert.equal(res.headers.get('content-type'), type, url);
      assert.equal(res.headers.get('content-security-policy'), IMAGE_CSP, url);
    }
    const raw = await s.fetch('/api/images?name=page.html', { method: 'POST', body: new Uint8Array(png), headers: { 'content-type': 'text/html' } });
    await assertRefusal(raw, 415, /Unsupported Media Type/);
  });
});
