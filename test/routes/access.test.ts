// Access control: --upload_token guards every upload route (API header, page script header, plain
// form field) before any of the body is read, while images stay readable by whoever has their
// link; ids cannot be guessed; --public_listing=false hides the list but not the images.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { newId } from '../../src/ids.js';
import { streamedInit, stalled } from '../helpers/bodies.js';
import { attributes, tags, textOf } from '../helpers/html.js';
import { photo, solid } from '../helpers/images.js';
import { multipart, startTestServer, type TestServer, type UploadedImage } from '../helpers/server.js';

const TOKEN = 'correct horse battery staple';
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

interface ErrorJson { status: number; error: string; message: string }

async function refusedWith(res: Response, status: number, error: string): Promise<ErrorJson> {
  const body = await res.json() as ErrorJson;
  assert.equal(res.status, status);
  assert.deepEqual([body.status, body.error], [status, error]);
  return body;
}

async function listedIds(s: TestServer): Promise<string[]> {
  return (s.server.library.list(100)).then((images) => images.map((i) => i.id));
}

/** The plain form's body: its fields in `order`, the file where 'file' stands. */
function formBody(order: readonly string[], fields: Record<string, string>, file: Buffer): FormData {
  const form = new FormData();
  for (const name of order) {
    if (name === 'file') form.append('file', new Blob([new Uint8Array(file)], { type: 'image/png' }), 'a.png');
    else form.append(name, fields[name] ?? '');
  }
  return form;
}

describe('--upload_token', () => {
  let s: TestServer;
  let image: Buffer;
  before(async () => {
    s = await startTestServer({ upload_token: TOKEN, xsrf_cookies: false });
    image = await solid(12, 12, '#208040');
  });
  after(() => s.close());

  it('answers 401 with a Bearer challenge to an upload without the token, and stores nothing', async () => {
    const missing = await s.upload(image);
    assert.equal(missing.headers.get('www-authenticate'), 'Bearer realm="imghost"');
    await refusedWith(missing, 401, 'UPLOAD_TOKEN_REQUIRED');
    // Another scheme is no token at all.
    const basic = await s.upload(image, { headers: { authorization: `Basic ${Buffer.from(`u:${TOKEN}`).toString('base64')}` } });
    await refusedWith(basic, 401, 'UPLOAD_TOKEN_REQUIRED');
    assert.deepEqual(await listedIds(s), []);
  });

  it('answers 401 invalid_token to a wrong token, whatever its length, a prefix of the right one included', async () => {
    for (const wrong of ['x', TOKEN.slice(0, -1), `${TOKEN}!`, TOKEN.toUpperCase(), 'a'.repeat(4000)]) {
      const res = await s.upload(image, { headers: bearer(wrong) });
      assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="imghost", error="invalid_token"', wrong);
      await refusedWith(res, 401, 'WRONG_UPLOAD_TOKEN');
    }
    assert.deepEqual(await listedIds(s), []);
  });

  it('refuses before reading the body: a client still sending gets its 401', async () => {
    const big = await photo(400, 300);
    const res = await s.fetch('/api/images', streamedInit(stalled(big), 'image/jpeg'));
    await refusedWith(res, 401, 'UPLOAD_TOKEN_REQUIRED');
  });

  it('accepts the token as a Bearer header on the API, multipart or raw', async () => {
    const one = await s.uploadOk(image, { headers: bearer(TOKEN) });
    const raw = await s.fetch('/api/images', { method: 'POST', body: new Uint8Array(await solid(12, 12, '#402080')), headers: { ...bearer(TOKEN), 'content-type': 'image/png' } });
    assert.equal(raw.status, 201);
    const two = await raw.json() as UploadedImage;
    assert.deepEqual((await listedIds(s)).sort(), [one.id, two.id].sort());
  });

  it('leaves reading open: image, thumbnail, JSON and page answer without a token', async () => {
    const uploaded = await s.uploadOk(image, { headers: bearer(TOKEN) });
    for (const path of [uploaded.url, uploaded.thumb_url, `/api/images/${uploaded.id}`, uploaded.page_url]) {
      const res = await s.fetch(path);
      await res.arrayBuffer();
      assert.equal(res.status, 200, path);
    }
    const deleted = await s.fetch(`/api/images/${uploaded.id}`, { method: 'DELETE', headers: { 'x-delete-token': uploaded.delete_token } });
    assert.equal(deleted.status, 204);
  });

  it('puts a password field named upload_token in the form, before the file input', async () => {
    const html = await (await s.fetch('/')).text();
    const inputs = tags(html, 'input').map(attributes);
    const token = inputs.findIndex((a) => a.name === 'upload_token');
    assert.ok(token !== -1, 'the form has an upload_token field');
    assert.equal(inputs[token]?.type, 'password');
    assert.ok(token < inputs.findIndex((a) => a.type === 'file'), 'the browser sends it before the files');
  });

  it('takes the token from the plain form field sent before the files, or from a Bearer header', async () => {
    const before = await listedIds(s);
    const post = (body: FormData, headers: Record<string, string> = {}) => s.fetch('/', { method: 'POST', body, headers: { accept: 'text/html', ...headers }, redirect: 'manual' });
    const ok = await post(formBody(['upload_token', 'file'], { upload_token: TOKEN }, image));
    assert.equal(ok.status, 201);
    const scripted = await s.fetch('/', { method: 'POST', body: multipart(image), headers: { ...bearer(TOKEN), accept: 'application/json' } });
    assert.equal(scripted.status, 201);
    assert.equal((await listedIds(s)).length, before.length + 2);

    const wrong = await post(formBody(['upload_token', 'file'], { upload_token: 'guess' }, image));
    assert.equal(wrong.status, 401);
    assert.match(wrong.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(textOf(await wrong.text()), /the upload token is wrong/);
    // A field after the file comes too late: the file would have been read without it.
    const late = await post(formBody(['file', 'upload_token'], { upload_token: TOKEN }, image));
    assert.equal(late.status, 401);
    await late.arrayBuffer();
    assert.equal((await listedIds(s)).length, before.length + 2);
  });
});

describe('without --upload_token', () => {
  let s: TestServer;
  before(async () => { s = await startTestServer(); });
  after(() => s.close());

  it('needs no token and shows no token field', async () => {
    await s.uploadOk(await solid(8, 8, '#102030'));
    const html = await (await s.fetch('/')).text();
    assert.ok(!tags(html, 'input').map(attributes).some((a) => a.name === 'upload_token'));
  });
});

describe('image ids', () => {
  it('are 16 base64url characters of fresh randomness: 1000 all distinct, every symbol in every position', () => {
    const ids = Array.from({ length: 1000 }, newId);
    assert.equal(new Set(ids).size, ids.length);
    for (const id of ids) assert.match(id, /^[A-Za-z0-9_-]{16}$/);
    // 96 random bits spread over all 16 characters: each position takes most of the 64 symbols
    // in 1000 draws (a counter, a timestamp or a short random part would leave positions fixed).
    for (let position = 0; position < 16; position++) {
      const symbols = new Set(ids.map((id) => id[position]));
      assert.ok(symbols.size > 56, `position ${String(position)} takes ${String(symbols.size)} symbols`);
    }
  });
});

describe('--public_listing=false', () => {
  let s: TestServer;
  let image: UploadedImage;
  before(async () => {
    s = await startTestServer({ public_listing: false });
    image = await s.uploadOk(await solid(10, 10, '#804020'), { filename: 'secret-plans.png' });
  });
  after(() => s.close());

  it('answers GET /api/images with 404 LISTING_DISABLED, whatever the query', async () => {
    for (const query of ['', '?limit=5', '?before=999999999999']) {
      await refusedWith(await s.fetch(`/api/images${query}`), 404, 'LISTING_DISABLED');
    }
  });

  it('shows the upload form without the recent grid, saying the listing is off', async () => {
    for (const path of ['/', '/?before=999999999999']) {
      const html = await (await s.fetch(path)).text();
      assert.ok(!html.includes(image.id), 'no link to the image');
      assert.ok(!html.includes('secret-plans'), 'no name of an image');
      assert.equal(tags(html, 'ul').map(attributes).filter((a) => 'data-grid' in a).length, 0);
      assert.match(textOf(html), /does not list its images/);
      assert.equal(tags(html, 'form').map(attributes).filter((a) => 'data-upload' in a).length, 1);
    }
  });

  it('still serves each image to whoever has its id', async () => {
    for (const path of [image.url, image.thumb_url, `/api/images/${image.id}`, image.page_url]) {
      const res = await s.fetch(path);
      await res.arrayBuffer();
      assert.equal(res.status, 200, path);
    }
  });
});
