// The deletion link of an upload (`delete_url`), opened in a browser: a confirm page that deletes
// nothing, whose form posts back with the page's CSRF token and then deletes.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { defaults } from '../../src/config/options.js';
import { startServer } from '../../src/start-server.js';
import { attributes, cookieHeader, tags, textOf } from '../helpers/html.js';
import { photo } from '../helpers/images.js';
import { startTestServer, tempDir, type TestServer, type UploadedImage } from '../helpers/server.js';

/** An upload's answer, with the deletion link this suite follows. */
type Uploaded = UploadedImage & { delete_url: string };

interface Confirm { cookie: string; xsrf: string; html: string }

/** Opens the link as a browser does: keeps the cookie and reads the form's hidden token. */
async function openLink(url: string): Promise<Confirm> {
  const res = await fetch(url, { headers: { accept: 'text/html' } });
  assert.equal(res.status, 200);
  const html = await res.text();
  const xsrf = tags(html, 'input').map(attributes).find((a) => a.name === '_xsrf')?.value ?? '';
  return { cookie: cookieHeader(res), xsrf, html };
}

const confirm = (url: string, cookie: string, fields: Record<string, string>) => fetch(url, {
  method: 'POST',
  headers: { cookie, accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(fields).toString(),
  redirect: 'manual',
});

describe('the deletion link', () => {
  let s: TestServer;
  let png: Buffer;
  before(async () => {
    s = await startTestServer();
    png = await photo(60, 40, 'png');
  });
  after(() => s.close());

  const upload = async () => await s.uploadOk(png, { filename: 'holiday.png', type: 'image/png' }) as Uploaded;
  const stillThere = async (image: Uploaded) => (await s.fetch(`/imgs/${image.id}/orig`)).status;

  it('is absolute, next to the delete token, and names the image and its token', async () => {
    const image = await upload();
    assert.equal(image.delete_url, `${s.url}/d/${image.id}/${image.delete_token}`);
  });

  it('shows the thumbnail, the name and a Delete button, and deletes nothing on opening', async () => {
    const image = await upload();
    const res = await fetch(image.delete_url, { headers: { accept: 'text/html' } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('cache-control') ?? '', /no-store/);
    assert.equal(res.headers.get('x-robots-tag'), 'noindex');
    const html = await res.text();
    assert.ok(tags(html, 'img').map(attributes).some((a) => a.src === `/imgs/${image.id}/thumb`));
    assert.match(textOf(html), /Delete this image\? .*holiday\.png · 60 × 40 PNG/);
    const form = tags(html, 'form').map(attributes).find((a) => a.method === 'post');
    assert.ok(form, 'a form that posts');
    assert.equal(form.action, undefined, 'the form posts back to the link itself');
    assert.match(html, /<button type="submit">Delete<\/button>/);
    assert.equal(await stillThere(image), 200);
  });

  it("deletes when its form is sent with the page's token, and says so", async () => {
    const image = await upload();
    const page = await openLink(image.delete_url);
    const res = await confirm(image.delete_url, page.cookie, { _xsrf: page.xsrf });
    assert.equal(res.status, 200);
    assert.match(textOf(await res.text()), /Image deleted holiday\.png is deleted/);
    assert.equal(await stillThere(image), 404);
    assert.equal((await s.fetch(`/api/images/${image.id}`)).status, 404);
    const again = await fetch(image.delete_url, { headers: { accept: 'text/html' } });
    assert.equal(again.status, 404);
    assert.match(again.headers.get('content-type') ?? '', /^text\/html/);
  });

  it('refuses a form without the token, or with a token of another browser, and keeps the image', async () => {
    const image = await upload();
    const page = await openLink(image.delete_url);
    const missing = await confirm(image.delete_url, page.cookie, {});
    assert.equal(missing.status, 403);
    assert.match(await missing.text(), /_xsrf/);
    const other = await openLink(image.delete_url);
    const crossed = await confirm(image.delete_url, page.cookie, { _xsrf: other.xsrf });
    assert.equal(crossed.status, 403);
    const noCookie = await confirm(image.delete_url, '', { _xsrf: page.xsrf });
    assert.equal(noCookie.status, 403);
    assert.equal(await stillThere(image), 200);
  });

  it('answers a wrong delete token with a 403 page, on opening and on sending', async () => {
    const image = await upload();
    const wrongUrl = `${s.url}/d/${image.id}/not-the-token`;
    const res = await fetch(wrongUrl, { headers: { accept: 'text/html' } });
    assert.equal(res.status, 403);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(textOf(await res.text()), /the delete token is missing or wrong/);
    const page = await openLink(image.delete_url);
    const sent = await confirm(wrongUrl, page.cookie, { _xsrf: page.xsrf });
    assert.equal(sent.status, 403);
    assert.equal(await stillThere(image), 200);
  });

  it('answers an unknown image with a 404 page', async () => {
    const res = await fetch(`${s.url}/d/nosuchimage/token`, { headers: { accept: 'text/html' } });
    assert.equal(res.status, 404);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
  });
});

describe('the deletion link in the request log', () => {
  it('is written with its token masked', async () => {
    const lines: string[] = [];
    const sink = new Writable({ write(chunk: Buffer, _encoding, done) { lines.push(chunk.toString()); done(); } });
    const dataDir = await tempDir();
    const config = { ...defaults(), port: 0, address: '127.0.0.1', logging: 'info' as const, data_dir: dataDir, thumb_nice: 0 };
    const server = await startServer(config, pino({ level: 'info' }, sink));
    try {
      const form = new FormData();
      form.append('file', new Blob([new Uint8Array(await photo(20, 20, 'png'))]), 'a.png');
      const image = await (await fetch(`${server.url}/api/images`, { method: 'POST', body: form })).json() as Uploaded;
      const page = await openLink(image.delete_url);
      assert.equal((await confirm(image.delete_url, page.cookie, { _xsrf: page.xsrf })).status, 200);
      const log = lines.join('');
      assert.match(log, new RegExp(`"url":"/d/${image.id}/\\[token\\]"`));
      assert.ok(!log.includes(image.delete_token), 'the token is nowhere in the log');
    } finally {
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
