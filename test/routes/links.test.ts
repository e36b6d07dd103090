// Where the absolute links of the image page come from: --public_url when set, otherwise the
// request's Host (and, from a trusted proxy only, X-Forwarded-Host and -Proto), which must be a
// host name or address with an optional port; anything else is a 400, never a broken snippet.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { attributes, tags } from '../helpers/html.js';
import { solid } from '../helpers/images.js';
import { startTestServer, tempDir, type TestServer, type UploadedImage } from '../helpers/server.js';
import { exchange, simpleRequest } from '../hostile/raw-http.js';

// The sizes are the default --variants.
const SHARE_LABELS = ['page', 'direct', 'thumb', 'small', 'medium', 'large', 'markdown', 'html', 'bbcode'] as const;

/** The share fields of an image page, by name. */
function shareFields(html: string): Record<(typeof SHARE_LABELS)[number], string> {
  const values = tags(html, 'input').map(attributes).filter((a) => a.id?.startsWith('share-')).map((a) => a.value ?? '');
  assert.equal(values.length, SHARE_LABELS.length, 'the page offers every share field');
  return Object.fromEntries(SHARE_LABELS.map((label, i) => [label, values[i] ?? ''])) as Record<(typeof SHARE_LABELS)[number], string>;
}

/** GET the image page over a raw socket, with exactly these headers (and no Host unless given). */
const pageWith = (s: TestServer, image: UploadedImage, headers: Record<string, string>, version = '1.1') => {
  const lines = Object.entries({ connection: 'close', ...headers }).map(([name, value]) => `${name}: ${value}\r\n`).join('');
  return exchange(s.url, `GET ${s.path(image.page_url)} HTTP/${version}\r\n${lines}\r\n`);
};

describe('share links built from the Host header', () => {
  let s: TestServer;
  let image: UploadedImage;
  before(async () => {
    s = await startTestServer();
    image = await s.uploadOk(await solid(20, 20, '#336699'), { filename: 'a.png' });
  });
  after(() => s.close());

  it('uses a host name (container service names with underscores too), an IPv4 or a bracketed IPv6 address, with or without a port', async () => {
    for (const host of ['img.example.com', 'img.example.com:8080', 'localhost', '127.0.0.1:9000', '[::1]:8000', '[2001:db8::7]', 'IMG.Example.COM', 'imghost_web:8000']) {
      const answer = await exchange(s.url, simpleRequest('GET', s.path(image.page_url), { host }));
      assert.equal(answer.status, 200, `${host}: ${answer.body.slice(0, 200)}`);
      const fields = shareFields(answer.body);
      const origin = `http://${host.toLowerCase()}`;
      assert.equal(fields.page, `${origin}${s.path(image.page_url)}`, host);
      assert.equal(fields.markdown, `![a.png](${origin}${s.path(image.url)})`, host);
      assert.equal(fields.large, `${origin}${s.path(image.variants.large ?? '')}`, host);
    }
  });

  it('answers 400 BAD_HOST to a Host that is not a plain host and port, and builds no link from it', async () => {
    const hostile = [
      'evil.example](https://evil.example/x.png)', 'evil.example][img]x', 'a b.example', 'host/path', 'user@host',
      'host:99999', 'host:0', 'host:', ':8000', '[not-v6]', '[::1', '-lead.example', 'host"quote', '<b>.example',
      'a..b', '1.2.3', 'host:80:80',
    ];
    for (const host of hostile) {
      const answer = await exchange(s.url, simpleRequest('GET', s.path(image.page_url), { host, accept: 'application/json' }));
      assert.equal(answer.status, 400, `${host}: ${answer.body.slice(0, 200)}`);
      assert.match(answer.body, /"error":"BAD_HOST"/, host);
      assert.ok(!answer.body.includes(host), `${host} is echoed back`);
    }
  });

  it('answers 400 BAD_HOST to an HTTP/1.0 request without Host, where it would write http:///i/...', async () => {
    const answer = await pageWith(s, image, { accept: 'text/html' }, '1.0');
    assert.equal(answer.status, 400);
    assert.match(answer.headers['content-type'] ?? '', /^text\/html/);
    assert.match(answer.body, /no Host header/);
    assert.ok(!answer.body.includes('http:///'));
  });

  it('still serves the pages that build no absolute link to an HTTP/1.0 client without Host', async () => {
    for (const path of ['/', s.path(image.url)]) {
      const answer = await exchange(s.url, `GET ${path} HTTP/1.0\r\n\r\n`);
      assert.equal(answer.status, 200, path);
    }
  });

  it('answers 400 BAD_HOST to an API request without Host, whose links would have no host', async () => {
    const answer = await exchange(s.url, `GET /api/images/${image.id} HTTP/1.0\r\n\r\n`);
    assert.equal(answer.status, 400);
    assert.match(answer.body, /"error":"BAD_HOST"/);
  });

  it('ignores X-Forwarded-Host and -Proto from a peer that is not a trusted proxy', async () => {
    const answer = await pageWith(s, image, { host: 'img.example.com', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' });
    assert.equal(answer.status, 200);
    assert.equal(shareFields(answer.body).page, `http://img.example.com${s.path(image.page_url)}`);
  });
});

describe('share links behind a trusted proxy', () => {
  let s: TestServer;
  let image: UploadedImage;
  before(async () => {
    s = await startTestServer({ trusted_proxies: '127.0.0.1' });
    image = await s.uploadOk(await solid(20, 20, '#663399'), { filename: 'b.png' });
  });
  after(() => s.close());

  it('builds them on the X-Forwarded-Proto and -Host the proxy sends', async () => {
    const answer = await pageWith(s, image, { host: '127.0.0.1', 'x-forwarded-host': 'img.example.com', 'x-forwarded-proto': 'https' });
    assert.equal(answer.status, 200);
    assert.equal(shareFields(answer.body).direct, `https://img.example.com${s.path(image.url)}`);
  });

  it('validates the forwarded host and scheme as it would the Host (400)', async () => {
    const forwards: Record<string, string>[] = [{ 'x-forwarded-host': 'evil.example](x)' }, { 'x-forwarded-proto': 'javascript' }];
    for (const forwarded of forwards) {
      const answer = await pageWith(s, image, { host: '127.0.0.1', accept: 'application/json', ...forwarded });
      assert.equal(answer.status, 400, JSON.stringify(forwarded));
      assert.match(answer.body, /"error":"BAD_HOST"/);
    }
  });
});

describe('--public_url', () => {
  let s: TestServer;
  let image: UploadedImage;
  before(async () => {
    s = await startTestServer({ public_url: 'https://img.example.com/pics/' });
    image = await s.uploadOk(await solid(20, 20, '#996633'), { filename: 'c.png' });
  });
  after(() => s.close());

  it('is what every share link is built on, whatever the Host, even with none', async () => {
    const requests: Record<string, string>[] = [{ host: 'other.example' }, { host: 'evil.example](x)' }, {}];
    for (const headers of requests) {
      const answer = await pageWith(s, image, headers, 'host' in headers ? '1.1' : '1.0');
      assert.equal(answer.status, 200, JSON.stringify(headers));
      const fields = shareFields(answer.body);
      assert.equal(fields.page, `https://img.example.com/pics${s.path(image.page_url)}`);
      assert.equal(fields.thumb, `https://img.example.com/pics${s.path(image.thumb_url)}`);
      assert.equal(fields.bbcode, `[url=https://img.example.com/pics${s.path(image.page_url)}][img]https://img.example.com/pics${s.path(image.url)}[/img][/url]`);
    }
  });

  it('is checked at start-up: an http(s) URL of a plain host, without credentials, query or fragment', async () => {
    const dataDir = await tempDir();
    try {
      for (const value of ['img.example.com', 'ftp://img.example.com', 'https://img.example.com/?a=1', 'https://img.example.com/#top', 'https://user:pw@img.example.com', 'javascript:alert(1)', 'https://a)b.example.com', 'https://a*b.example.com/']) {
        await assert.rejects(startTestServer({ public_url: value, data_dir: dataDir }), /option '--public_url'/, value);
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
