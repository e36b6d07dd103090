// Browsers on other sites' pages: they may not upload through the JSON API (a drive-by upload
// into a LAN-only instance) unless they present a token, while programs such as curl, which send
// neither Sec-Fetch-Site nor Origin, keep working; and the form's _xsrf cookie is Secure when the
// page came over HTTPS, directly or through a trusted proxy.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { solid } from '../helpers/images.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { assertNothingHalfStored, assertRefusal } from '../hostile/answers.js';
import { exchange, simpleRequest } from '../hostile/raw-http.js';

const refused = /uploads to the API from another site need Authorization: Bearer/;

describe('cross-site uploads to the JSON API', () => {
  let s: TestServer;
  let png: Buffer;
  before(async () => {
    s = await startTestServer();
    png = await solid(16, 16, '#208040');
  });
  after(() => s.close());

  it('refuses a browser post from another site or a sibling one (403), storing nothing', async () => {
    const browsers: Record<string, string>[] = [
      { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' },
      { 'sec-fetch-site': 'same-site', origin: 'http://other.localhost' },
      { origin: 'https://evil.example' },
      { origin: 'null' },
      { origin: s.url.replace('127.0.0.1', 'localhost') },
    ];
    for (const headers of browsers) {
      const res = await s.upload(png, { headers });
      await assertRefusal(res, 403, refused, JSON.stringify(headers));
    }
    await assertNothingHalfStored(s, []);
  });

  it('refuses it before reading the body: a browser still sending gets its 403', async () => {
    const head = 'POST /api/images HTTP/1.1\r\nhost: localhost\r\nsec-fetch-site: cross-site\r\ncontent-type: image/png\r\ncontent-length: 1000000\r\n\r\n';
    const answer = await exchange(s.url, Buffer.concat([Buffer.from(head), png]));
    assert.equal(answer.status, 403);
    assert.match(answer.body, /"error":"CROSS_SITE_UPLOAD"/);
  });

  it('takes uploads from its own pages, from programs that send no browser headers, and from a typed address', async () => {
    const ours: Record<string, string>[] = [{}, { 'sec-fetch-site': 'same-origin', origin: s.url }, { origin: s.url }, { 'sec-fetch-site': 'none' }];
    for (const headers of ours) {
      const res = await s.upload(png, { headers });
      assert.equal(res.status, 201, `${JSON.stringify(headers)}: ${await res.text()}`);
    }
  });

  it('takes a cross-site post that carries a Bearer token, which no form can send', async () => {
    const res = await s.upload(png, { headers: { 'sec-fetch-site': 'cross-site', origin: 'https://tool.example', authorization: 'Bearer anything' } });
    assert.equal(res.status, 201, await res.text());
  });
});

describe('cross-site uploads with --public_url', () => {
  it('refuses a DNS-rebinding page: same-origin to the browser, but its Origin is not the public URL (403)', async () => {
    const s = await startTestServer({ public_url: 'https://img.example.com' });
    try {
      const png = await solid(16, 16, '#208040');
      // The attacker's name leads to this server: the browser sees a same-origin post from it.
      const rebound = { host: 'evil.example', 'sec-fetch-site': 'same-origin', origin: 'http://evil.example' };
      await assertRefusal(await s.upload(png, { headers: rebound }), 403, refused);
      const own = { 'sec-fetch-site': 'same-origin', origin: 'https://img.example.com' };
      assert.equal((await s.upload(png, { headers: own })).status, 201);
    } finally {
      await s.close();
    }
  });
});

describe('cross-site uploads with --upload_token', () => {
  let s: TestServer;
  let png: Buffer;
  before(async () => {
    s = await startTestServer({ upload_token: 'sesame' });
    png = await solid(16, 16, '#804020');
  });
  after(() => s.close());

  it('takes a cross-site post with the right token, and refuses one without it (403) or with a wrong one (401)', async () => {
    const cross = { 'sec-fetch-site': 'cross-site', origin: 'https://tool.example' };
    assert.equal((await s.upload(png, { headers: { ...cross, authorization: 'Bearer sesame' } })).status, 201);
    await assertRefusal(await s.upload(png, { headers: cross }), 403, refused);
    await assertRefusal(await s.upload(png, { headers: { ...cross, authorization: 'Bearer wrong' } }), 401, /token is wrong/);
  });
});

describe('the _xsrf cookie', () => {
  /** The attributes of the _xsrf cookie set by GET / with these headers, lower-cased. */
  const xsrfCookie = async (s: TestServer, headers: Record<string, string>): Promise<string[]> => {
    const answer = await exchange(s.url, simpleRequest('GET', '/', headers));
    assert.equal(answer.status, 200);
    const cookie = answer.headers['set-cookie'] ?? '';
    assert.match(cookie, /^_xsrf=/);
    return cookie.split(';').slice(1).map((part) => part.trim().toLowerCase());
  };

  it('is Secure behind a trusted proxy that says the request came over HTTPS, and not over plain HTTP', async () => {
    const s = await startTestServer({ trusted_proxies: '127.0.0.1' });
    try {
      const secure = await xsrfCookie(s, { 'x-forwarded-proto': 'https' });
      assert.ok(secure.includes('secure'), secure.join('; '));
      assert.ok(secure.includes('httponly') && secure.includes('samesite=lax'));
      assert.ok(!(await xsrfCookie(s, {})).includes('secure'));
      assert.ok(!(await xsrfCookie(s, { 'x-forwarded-proto': 'http' })).includes('secure'));
    } finally {
      await s.close();
    }
  });

  it('is not made Secure by X-Forwarded-Proto from a peer that is not a trusted proxy', async () => {
    const s = await startTestServer();
    try {
      assert.ok(!(await xsrfCookie(s, { 'x-forwarded-proto': 'https' })).includes('secure'));
    } finally {
      await s.close();
    }
  });
});
