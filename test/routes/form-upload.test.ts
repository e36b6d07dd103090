// The upload form without JavaScript: its answer is a page listing each image with its absolute
// links, snippets and delete token, whether or not the server lists its images; a refused file
// answers with a page that says why, in the units the options take.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fields, formBody, openForm, postForm, type FormFile } from '../helpers/form.js';
import { attributes, cookieHeader, tags, textOf } from '../helpers/html.js';
import { photo, solid } from '../helpers/images.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

interface Result { id: string; html: string; name: string; fields: Record<string, string>; deleteLink: string; thumb: Record<string, string> }

/** Each image the result page lists, in page order, read as a reader sees it. */
function results(html: string): Result[] {
  return [...html.matchAll(/<li class="result" data-id="([^"]+)">([\s\S]*?)<\/li>/g)].map(([, id = '', item = '']) => ({
    id,
    html: item,
    name: textOf(/<h2[^>]*>([\s\S]*?)<\/h2>/.exec(item)?.[1] ?? ''),
    fields: fields(item),
    deleteLink: tags(item, 'a').map(attributes).find((a) => 'data-delete-link' in a)?.href ?? '',
    thumb: attributes(tags(item, 'img')[0] ?? ''),
  }));
}

/** Posts the form as a browser without JavaScript does, with a fresh session. */
async function submit(s: TestServer, files: FormFile[]): Promise<Response> {
  const { cookie, token } = await openForm(s);
  return postForm(s, formBody({ _xsrf: token }, files), { cookie, accept: 'text/html,application/xhtml+xml,*/*;q=0.8' });
}

const png = (color: string, width = 40) => solid(width, 30, color);

describe('a form upload without JavaScript', () => {
  let s: TestServer;
  before(async () => { s = await startTestServer(); });
  after(() => s.close());

  it('answers 201 with a page listing the image, kept out of caches, with a link back to the form', async () => {
    const res = await submit(s, [{ data: await png('#aa3300'), filename: 'red.png', type: 'image/png' }]);
    assert.equal(res.status, 201);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
    assert.equal(res.headers.get('cache-control'), 'no-store', 'the page carries delete tokens');
    const html = await res.text();
    const [only, ...others] = results(html);
    assert.equal(others.length, 0);
    assert.equal(only?.name, 'red.png');
    assert.match(textOf(only.html), /40 × 30 px · PNG · \d+ B/);
    assert.ok(tags(html, 'a').map(attributes).some((a) => a.href === '/'), 'links back to the upload page');
  });

  it('gives absolute page, direct, thumbnail and size links that answer, and snippets built on them', async () => {
    const image = await photo(900, 600, 'jpeg');
    const [result] = results(await (await submit(s, [{ data: image, filename: 'holiday.jpg', type: 'image/jpeg' }])).text());
    assert.ok(result);
    const got = result.fields;
    const direct = `${s.url}/imgs/${result.id}/orig`, page = `${s.url}/i/${result.id}`;
    assert.equal(got.Page, page);
    assert.equal(got['Direct link'], direct);
    assert.equal(got.Thumbnail, `${s.url}/imgs/${result.id}/thumb`);
    assert.equal(got.Markdown, `![holiday.jpg](${direct})`);
    assert.equal(got.HTML, `<a href="${page}"><img src="${direct}" alt="holiday.jpg"></a>`);
    assert.equal(got.BBCode, `[url=${page}][img]${direct}[/img][/url]`);
    assert.deepEqual(Buffer.from(await (await fetch(direct)).arrayBuffer()), image, 'the direct link serves the upload');
    const pageRes = await fetch(page);
    assert.equal(pageRes.status, 200);
    assert.match(textOf(await pageRes.text()), /holiday\.jpg/);
    for (const label of ['Thumbnail', 'Size small', 'Size medium']) {
      const res = await fetch(got[label] ?? 'missing');
      assert.equal(res.status, 200, label);
      assert.match(res.headers.get('content-type') ?? '', /^image\//, label);
      await res.arrayBuffer();
    }
    // The thumbnail shown is a site path, so it loads at whichever address the page was reached.
    assert.equal(result.thumb.src, `/imgs/${result.id}/thumb`);
    assert.equal(result.thumb.alt, 'holiday.jpg');
  });

  it('shows the delete token, and its deletion link deletes the image through the confirm form', async () => {
    const [result] = results(await (await submit(s, [{ data: await png('#0033aa'), filename: 'gone.png' }])).text());
    assert.ok(result);
    const token = result.fields['Delete token'] ?? '';
    assert.match(token, /\S{16,}/);
    assert.equal(result.deleteLink, `${s.url}/d/${result.id}/${token}`);
    assert.equal(result.fields['Deletion link'], result.deleteLink);
    // As a browser follows the link: the confirm page, then its form with the cookie it set.
    const confirm = await fetch(result.deleteLink);
    assert.equal(confirm.status, 200);
    const html = await confirm.text();
    const xsrf = tags(html, 'input').map(attributes).find((a) => a.name === '_xsrf')?.value ?? '';
    const del = await fetch(result.deleteLink, {
      method: 'POST', body: new URLSearchParams({ _xsrf: xsrf }), headers: { cookie: cookieHeader(confirm) }, redirect: 'manual',
    });
    assert.equal(del.status, 200);
    await del.text();
    assert.equal((await fetch(`${s.url}/imgs/${result.id}/orig`)).status, 404, 'the image is gone');
  });

  it('lists every file of a post of several, in order, each with its own links and token', async () => {
    const files = await Promise.all(['#110000', '#002200', '#000033'].map(async (color, i) => ({ data: await png(color, 40 + i), filename: `multi-${String(i)}.png` })));
    const res = await submit(s, files);
    assert.equal(res.status, 201);
    const html = await res.text();
    const listed = results(html);
    assert.deepEqual(listed.map((r) => r.name), ['multi-0.png', 'multi-1.png', 'multi-2.png']);
    assert.equal(new Set(listed.map((r) => r.fields['Delete token'])).size, 3);
    assert.match(textOf(/<h1[^>]*>([\s\S]*?)<\/h1>/.exec(html)?.[1] ?? ''), /3 images uploaded/);
    for (const r of listed) {
      const res = await fetch(r.fields.Page ?? 'missing');
      assert.equal(res.status, 200, r.name);
      await res.arrayBuffer();
    }
  });

  it('shows the message of a refused file on its own page, with its name when one of several fails', async () => {
    const res = await submit(s, [
      { data: await png('#445566'), filename: 'fine.png' },
      { data: Buffer.from('just some text'), filename: 'notes.png', type: 'image/png' },
    ]);
    assert.equal(res.status, 400);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
    const text = textOf(await res.text());
    assert.match(text, /cannot identify image file/);
    assert.match(text, /notes\.png/);
  });
});

describe('a form upload to a server that does not list its images', () => {
  let s: TestServer;
  before(async () => { s = await startTestServer({ public_listing: false }); });
  after(() => s.close());

  it('still shows the image, its links and its token, and says they are the only way back to it', async () => {
    const res = await submit(s, [{ data: await png('#336699'), filename: 'private.png' }]);
    assert.equal(res.status, 201);
    const html = await res.text();
    const [result] = results(html);
    assert.equal(result?.name, 'private.png');
    assert.match(result.fields['Delete token'] ?? '', /\S{16,}/);
    assert.match(textOf(html), /does not list its images, so keep the links/);
    assert.equal((await fetch(result.fields.Page ?? 'missing')).status, 200);
    assert.doesNotMatch(await (await s.fetch('/')).text(), new RegExp(result.id), 'the form page lists nothing');
  });
});

describe('a form upload to a server with --public_url', () => {
  let s: TestServer;
  before(async () => { s = await startTestServer({ public_url: 'https://img.example.com/pics' }); });
  after(() => s.close());

  it('gives links on the public URL, and shows the thumbnail by its path on this server', async () => {
    const [result] = results(await (await submit(s, [{ data: await png('#996633'), filename: 'public.png' }])).text());
    assert.ok(result);
    assert.equal(result.fields.Page, `https://img.example.com/pics/i/${result.id}`);
    assert.equal(result.fields['Direct link'], `https://img.example.com/pics/imgs/${result.id}/orig`);
    assert.equal(result.deleteLink.startsWith(`https://img.example.com/pics/d/${result.id}/`), true);
    assert.equal(result.thumb.src, `/imgs/${result.id}/thumb`);
    assert.equal((await s.fetch(`/imgs/${result.id}/thumb`)).status, 200);
  });
});

describe('sizes in messages', () => {
  let s: TestServer;
  before(async () => { s = await startTestServer({ max_upload_size: 1024 * 1024 }); });
  after(() => s.close());

  const tooLarge = () => filler(2 * 1024 * 1024);

  it('are stated in binary units on the page a refused form upload answers with', async () => {
    const res = await submit(s, [{ data: tooLarge(), filename: 'big.png', type: 'image/png' }]);
    assert.equal(res.status, 413);
    assert.match(textOf(await res.text()), /the file is larger than the 1 MiB limit/);
  });

  it('are stated the same way in the JSON of the API', async () => {
    const res = await s.upload(tooLarge(), { type: 'image/png' });
    assert.equal(res.status, 413);
    assert.deepEqual(await res.json(), { status: 413, error: 'TOO_LARGE', message: 'the file is larger than the 1 MiB limit', request_id: res.headers.get('x-request-id') });
  });

  it('state the limit on the form the same way', async () => {
    assert.match(textOf(await (await s.fetch('/')).text()), /up to 1 MiB each/);
  });
});

/** `length` bytes of filler. */
const filler = (length: number): Buffer => Buffer.alloc(length, 0x5a);
