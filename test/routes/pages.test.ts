// The browser pages: the upload form at / with its recent list, the CSRF protection of the form
// post, the page of one image with its share snippets, error pages and static files.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { formatBytes } from '../../src/bytes.js';
import { root } from '../helpers/cli.js';
import { fields, formBody, openForm, postForm } from '../helpers/form.js';
import { attributes, tags, textOf } from '../helpers/html.js';
import { photo, solid } from '../helpers/images.js';
import { startTestServer, type TestServer, type UploadedImage } from '../helpers/server.js';
import { assertNothingHalfStored } from '../hostile/answers.js';

interface Listed { id: string; name: string | null }

async function listed(s: TestServer): Promise<Listed[]> {
  const body = await (await s.fetch('/api/images?limit=100')).json() as { images: Listed[] };
  return body.images;
}

/** The thumbnails of the recent list, in page order. */
function recentList(html: string): { href: string; img: Record<string, string> }[] {
  const grid = /<ul class="grid"[^>]*>([\s\S]*?)<\/ul>/.exec(html)?.[1] ?? '';
  return [...grid.matchAll(/<a\b[^>]*>\s*<img\b[^>]*>/g)].map((m) => {
    const [anchor = '', img = ''] = tags(m[0], 'a').concat(tags(m[0], 'img'));
    return { href: attributes(anchor).href ?? '', img: attributes(img) };
  });
}

const png = (color: string) => solid(20, 20, color);

describe('GET /', () => {
  let s: TestServer;
  before(async () => { s = await startTestServer(); });
  after(() => s.close());

  it('is an HTML page with a multipart form that posts files and a hidden _xsrf token to /', async () => {
    const res = await s.fetch('/');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
    const html = await res.text();
    const [form, ...others] = tags(html, 'form').map(attributes);
    assert.ok(form);
    assert.equal(others.length, 0);
    assert.equal(form.method?.toLowerCase(), 'post');
    assert.equal(form.action, '/');
    assert.equal(form.enctype, 'multipart/form-data');
    const inputs = tags(html, 'input').map(attributes);
    const xsrf = inputs.find((a) => a.name === '_xsrf');
    assert.equal(xsrf?.type, 'hidden');
    assert.match(xsrf.value ?? '', /\S{16,}/);
    const file = inputs.find((a) => a.name === 'file');
    assert.equal(file?.type, 'file');
    assert.ok('multiple' in file, 'several files can be chosen at once');
  });

  it('offers the accepted formats, by type to the picker and the script and by name to people', async () => {
    const html = await (await s.fetch('/')).text();
    const types = 'image/jpeg,image/png,image/webp,image/gif,image/avif,image/tiff';
    const names = 'JPEG, PNG, WebP, GIF, AVIF or TIFF';
    assert.equal(tags(html, 'input').map(attributes).find((a) => a.name === 'file')?.accept, types);
    const form = tags(html, 'form').map(attributes)[0];
    assert.deepEqual([form?.['data-types'], form?.['data-type-labels']], [types, names]);
    assert.match(html, new RegExp(`<p id="limits" class="limits">${names}, up to 32 MiB each</p>`));
  });

  it('sets the _xsrf cookie HTTP-only, SameSite=Lax, for the whole site', async () => {
    const res = await s.fetch('/');
    await res.text();
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('_xsrf='));
    assert.ok(cookie, 'an _xsrf cookie is set');
    assert.match(cookie, /;\s*HttpOnly/i);
    assert.match(cookie, /;\s*SameSite=Lax/i);
    assert.match(cookie, /;\s*Path=\//i);
  });

  it('keeps the cookie of a returning browser and gives it a token that is still accepted', async () => {
    const first = await openForm(s);
    const res = await s.fetch('/', { headers: { cookie: first.cookie } });
    const html = await res.text();
    assert.deepEqual(res.headers.getSetCookie(), []);
    const token = tags(html, 'input').map(attributes).find((a) => a.name === '_xsrf')?.value ?? '';
    const post = await postForm(s, formBody({ _xsrf: token }, [{ data: await png('#101010'), filename: 'again.png' }]), { cookie: first.cookie });
    assert.equal(post.status, 201);
  });

  it('is protected by a Content-Security-Policy without unsafe-inline, and cannot be framed', async () => {
    const res = await s.fetch('/');
    const html = await res.text();
    const csp = res.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.equal(res.headers.get('x-frame-options'), 'DENY');
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    // The page must work under that policy: no inline script, and no inline style but the one
    // block its nonce admits (the images' placeholders).
    assert.ok(tags(html, 'script').every((t) => 'src' in attributes(t)), 'no inline <script>');
    assert.deepEqual(tags(html, 'style').map((t) => `'nonce-${attributes(t).nonce ?? ''}'`), [/'nonce-[^']+'/.exec(csp)?.[0]]);
    assert.doesNotMatch(html, /\sstyle=|\son[a-z]+=/i);
  });

  it('says there is nothing yet when no image was uploaded', async () => {
    const empty = await startTestServer();
    try {
      const html = await (await empty.fetch('/')).text();
      assert.deepEqual(recentList(html), []);
      assert.match(textOf(html), /Nothing here yet/);
    } finally {
      await empty.close();
    }
  });
});

describe('the recent list on /', () => {
  let s: TestServer;
  const uploads: UploadedImage[] = [];
  before(async () => {
    s = await startTestServer({ recent_count: 3 });
    for (const [i, color] of ['#ff0000', '#00ff00', '#0000ff', '#ffff00'].entries()) {
      uploads.push(await s.uploadOk(await solid(200 + i * 10, 100, color), { filename: `n${String(i)}.png` }));
    }
  });
  after(() => s.close());

  it('shows the newest recent_count thumbnails, newest first, each linking to its page', async () => {
    const items = recentList(await (await s.fetch('/')).text());
    const newest = uploads.slice(-3).reverse();
    assert.deepEqual(items.map((i) => i.href), newest.map((u) => `/i/${u.id}`));
    assert.deepEqual(items.map((i) => i.img.src), newest.map((u) => s.path(u.thumb_url)));
  });

  it('gives every thumbnail its width and height and lazy loading', async () => {
    const items = recentList(await (await s.fetch('/')).text());
    const newest = uploads.slice(-3).reverse();
    assert.equal(items.length, 3);
    for (const [i, { img }] of items.entries()) {
      const upload = newest[i];
      assert.ok(upload);
      assert.equal(img.width, String(upload.thumb.width));
      assert.equal(img.height, String(upload.thumb.height));
      assert.equal(img.loading, 'lazy');
      assert.equal(img.alt, upload.name);
    }
  });
});

describe('POST / (the upload form)', () => {
  let s: TestServer;
  before(async () => { s = await startTestServer(); });
  after(() => s.close());

  it('refuses a post without the _xsrf field with a 403 page, and stores nothing', async () => {
    const { cookie } = await openForm(s);
    const before = await listed(s);
    const res = await postForm(s, formBody({}, [{ data: await png('#ff0000'), filename: 'red.png' }]), { cookie });
    assert.equal(res.status, 403);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(textOf(await res.text()), /'_xsrf' argument missing/);
    assert.deepEqual(await listed(s), before);
  });

  it('refuses a post with a wrong token (403)', async () => {
    const { cookie, token } = await openForm(s);
    const before = await listed(s);
    const forged = token.slice(0, -4) + (token.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    const res = await postForm(s, formBody({ _xsrf: forged }, [{ data: await png('#ff0000'), filename: 'red.png' }]), { cookie });
    assert.equal(res.status, 403);
    assert.match(textOf(await res.text()), /does not match/);
    assert.deepEqual(await listed(s), before);
  });

  it("refuses another browser's token (403): a token only holds with its own cookie", async () => {
    const mine = await openForm(s);
    const theirs = await openForm(s);
    assert.notEqual(mine.cookie, theirs.cookie);
    const res = await postForm(s, formBody({ _xsrf: theirs.token }, [{ data: await png('#ff0000'), filename: 'red.png' }]), { cookie: mine.cookie });
    assert.equal(res.status, 403);
    await res.text();
  });

  it('refuses a valid token sent without its cookie, or with a tampered cookie (403)', async () => {
    const { cookie, token } = await openForm(s);
    const body = async () => formBody({ _xsrf: token }, [{ data: await png('#ff0000'), filename: 'red.png' }]);
    const bare = await postForm(s, await body());
    assert.equal(bare.status, 403);
    assert.match(textOf(await bare.text()), /cookie missing/);
    const tampered = cookie.replace(/^_xsrf=(.)/, (_m, c: string) => `_xsrf=${c === 'x' ? 'y' : 'x'}`);
    const res = await postForm(s, await body(), { cookie: tampered });
    assert.equal(res.status, 403);
    await res.text();
  });

  it('stores the file sent with the cookie and the token from the page, and answers with its result page (201)', async () => {
    const session = await openForm(s);
    const image = await photo(120, 80, 'jpeg');
    const res = await postForm(s, formBody({ _xsrf: session.token }, [{ data: image, filename: 'form.jpg', type: 'image/jpeg' }]), { cookie: session.cookie });
    assert.equal(res.status, 201);
    assert.match(textOf(await res.text()), /Image uploaded .* form\.jpg 120 × 80 px · JPEG/);
    const [newest] = await listed(s);
    assert.equal(newest?.name, 'form.jpg');
    const items = recentList((await openForm(s, session.cookie)).html);
    assert.equal(items[0]?.href, `/i/${newest.id}`);
    const stored = Buffer.from(await (await s.fetch(`/imgs/${newest.id}/orig`)).arrayBuffer());
    assert.deepEqual(stored, image);
  });

  it('accepts the token in an X-XSRF-Token header instead of the field', async () => {
    const { cookie, token } = await openForm(s);
    const res = await postForm(s, formBody({}, [{ data: await png('#00ff00'), filename: 'header.png' }]), { cookie, 'x-xsrf-token': token });
    assert.equal(res.status, 201);
    assert.equal((await listed(s))[0]?.name, 'header.png');
  });

  it('stores every file of a post with several, in order', async () => {
    const { cookie, token } = await openForm(s);
    const files = await Promise.all(['#110000', '#002200', '#000033'].map(async (color, i) => ({ data: await png(color), filename: `multi-${String(i)}.png` })));
    const res = await postForm(s, formBody({ _xsrf: token }, files), { cookie });
    assert.equal(res.status, 201);
    const names = (await listed(s)).slice(0, 3).map((i) => i.name);
    assert.deepEqual(names, ['multi-2.png', 'multi-1.png', 'multi-0.png']);
  });

  it('answers a non-image with a 400 HTML page saying "cannot identify image file"', async () => {
    const { cookie, token } = await openForm(s);
    const before = await listed(s);
    const res = await postForm(s, formBody({ _xsrf: token }, [{ data: Buffer.from('just some text'), filename: 'notes.png', type: 'image/png' }]), { cookie });
    assert.equal(res.status, 400);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    assert.match(textOf(await res.text()), /cannot identify image file/);
    assert.deepEqual(await listed(s), before);
  });

  it('keeps none of a post whose later file is refused: the answer is one, and the earlier images would go unannounced', async () => {
    const { cookie, token } = await openForm(s);
    const before = await listed(s);
    const files = [
      { data: await png('#441100'), filename: 'first.png' },
      { data: await png('#004411'), filename: 'second.png' },
      { data: Buffer.from('just some text'), filename: 'third.png', type: 'image/png' },
    ];
    const res = await postForm(s, formBody({ _xsrf: token }, files), { cookie });
    assert.equal(res.status, 400);
    assert.deepEqual(await listed(s), before);
    await assertNothingHalfStored(s, before);
  });

  it('refuses a post of more files than a form takes (413), keeping none of them', async () => {
    const { cookie, token } = await openForm(s);
    const before = await listed(s);
    const files = await Promise.all(Array.from({ length: 21 }, async (_, i) => ({ data: await png(`#0000${(i + 16).toString(16)}`), filename: `many-${String(i)}.png` })));
    const res = await postForm(s, formBody({ _xsrf: token }, files), { cookie, accept: 'application/json' });
    assert.equal(res.status, 413);
    assert.match(await res.text(), /"error":"TOO_MANY_FILES".*send at most 20 files at once/);
    assert.deepEqual(await listed(s), before);
  });

  it('answers a post with a token but no file with a 400 page', async () => {
    const { cookie, token } = await openForm(s);
    const res = await postForm(s, formBody({ _xsrf: token }, []), { cookie });
    assert.equal(res.status, 400);
    assert.match(textOf(await res.text()), /no 'file' field/);
  });
});

describe('POST / with xsrf_cookies disabled', () => {
  let s: TestServer;
  before(async () => { s = await startTestServer({ xsrf_cookies: false }); });
  after(() => s.close());

  it('stores the upload without any cookie or token', async () => {
    const res = await postForm(s, formBody({}, [{ data: await png('#abcdef'), filename: 'free.png' }]));
    assert.equal(res.status, 201);
    assert.equal((await listed(s))[0]?.name, 'free.png');
  });
});

describe('GET /i/<id>', () => {
  let s: TestServer;
  let image: UploadedImage;
  let html: string;
  before(async () => {
    s = await startTestServer();
    image = await s.uploadOk(await photo(300, 200, 'png'), { filename: 'sunset.png', type: 'image/png' });
    const res = await s.fetch(image.page_url);
    assert.equal(res.status, 200);
    html = await res.text();
  });
  after(() => s.close());

  it('shows the dimensions, format and size of the image', () => {
    const text = textOf(html);
    assert.ok(image.bytes > 1000);
    assert.match(text, /300 × 200 px/);
    assert.match(text, /PNG \(image\/png\)/);
    assert.ok(text.includes(`${formatBytes(image.bytes)} (${image.bytes.toLocaleString('en')} bytes)`), `size ${String(image.bytes)} shown`);
    assert.match(text, /sunset\.png/);
  });

  it('shows the image itself at its size', () => {
    const full = tags(html, 'img').map(attributes).find((a) => a.src === s.path(image.url));
    assert.ok(full, 'the original is shown');
    assert.deepEqual([full.width, full.height], ['300', '200']);
  });

  it('offers share snippets with absolute URLs: direct link, Markdown, HTML and BBCode', () => {
    const direct = `${s.url}/imgs/${image.id}/orig`;
    const page = `${s.url}/i/${image.id}`;
    const got = fields(html);
    assert.equal(got['Direct link'], direct);
    assert.equal(got.Markdown, `![sunset.png](${direct})`);
    assert.equal(got.HTML, `<a href="${page}"><img src="${direct}" alt="sunset.png"></a>`);
    assert.equal(got.BBCode, `[url=${page}][img]${direct}[/img][/url]`);
    assert.equal(got.Page, page);
    assert.equal(got.Thumbnail, `${s.url}/imgs/${image.id}/thumb`);
  });

  it('carries the same security headers as the upload page', async () => {
    const res = await s.fetch(image.page_url);
    await res.text();
    assert.doesNotMatch(res.headers.get('content-security-policy') ?? 'missing', /unsafe-inline/);
    assert.equal(res.headers.get('x-frame-options'), 'DENY');
  });

  it('answers an unknown or malformed id with a 404 HTML page', async () => {
    for (const path of ['/i/AAAAAAAAAAAAAAAA', '/i/..%2F..%2Fetc', `/i/${image.id}x`]) {
      const res = await s.fetch(path);
      assert.equal(res.status, 404, path);
      assert.match(res.headers.get('content-type') ?? '', /^text\/html/, path);
      assert.match(textOf(await res.text()), /404 image not found/, path);
    }
  });
});

describe('a hostile file name', () => {
  let s: TestServer;
  let image: UploadedImage;
  const name = '<script>alert(1)</script>.png';
  before(async () => {
    s = await startTestServer();
    // A raw body keeps the name whole (a multipart parser would cut it at the '/').
    const res = await s.fetch(`/api/images?name=${encodeURIComponent(name)}`, {
      method: 'POST', body: new Uint8Array(await png('#cc0000')), headers: { 'content-type': 'image/png' },
    });
    image = await res.json() as UploadedImage;
    assert.equal(image.name, name);
  });
  after(() => s.close());

  it('is shown escaped on /, never as markup', async () => {
    const html = await (await s.fetch('/')).text();
    assert.ok(!html.includes('<script>alert(1)'), 'raw <script> in /');
    assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;.png'), 'the name is shown, escaped');
    const [item] = recentList(html);
    assert.equal(item?.img.alt, name);
  });

  it('is shown escaped on /i/<id>, in the title, the facts and every share snippet', async () => {
    const html = await (await s.fetch(image.page_url)).text();
    assert.ok(!html.includes('<script>alert(1)'), 'raw <script> in /i/<id>');
    assert.match(/<title>([^<]*)<\/title>/.exec(html)?.[1] ?? '', /^&lt;script&gt;alert\(1\)&lt;\/script&gt;\.png/);
    assert.ok(textOf(html).includes(`Name ${name}`));
    const markdown = tags(html, 'input').map(attributes).map((a) => a.value ?? '').find((v) => v.startsWith('!['));
    // Markdown-escaped, so the name's brackets and tags stay text.
    assert.equal(markdown, `![\\<script\\>alert\\(1\\)\\</script\\>.png](${image.url})`);
  });

  it('stays inside the alt attribute of the HTML snippet even when it contains quotes', async () => {
    const quoted = 'x" onerror="alert(1).png';
    const res = await s.fetch(`/api/images?name=${encodeURIComponent(quoted)}`, {
      method: 'POST', body: new Uint8Array(await png('#00cc00')), headers: { 'content-type': 'image/png' },
    });
    const upload = await res.json() as UploadedImage;
    const html = await (await s.fetch(upload.page_url)).text();
    const snippet = tags(html, 'input').map(attributes).map((a) => a.value ?? '').find((v) => v.startsWith('<a '));
    assert.ok(snippet, 'an HTML snippet is offered');
    // What the user copies is itself HTML: parse it as such.
    const img = attributes(tags(snippet, 'img')[0] ?? '');
    assert.equal(img.alt, quoted);
    assert.ok(!('onerror' in img), `the snippet injects an attribute: ${snippet}`);
  });
});

describe('pages that do not exist, and static files', () => {
  let s: TestServer;
  before(async () => { s = await startTestServer(); });
  after(() => s.close());

  it('answers an unknown route asked for as HTML with a 404 page', async () => {
    const res = await s.fetch('/no/such/page', { headers: { accept: 'text/html,application/xhtml+xml;q=0.9,*/*;q=0.8' } });
    assert.equal(res.status, 404);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
    const html = await res.text();
    assert.match(textOf(html), /404 page not found/);
    assert.equal(tags(html, 'a').map(attributes).some((a) => a.href === '/'), true, 'links back to the upload page');
  });

  it('answers an unknown route asked for by a program with 404 JSON', async () => {
    const res = await s.fetch('/no/such/page');
    assert.equal(res.status, 404);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(await res.json(), { status: 404, error: 'NOT_FOUND', message: 'not found', request_id: res.headers.get('x-request-id') });
  });

  it('links its script, styles and icon under content-hashed names, cached for a year', async () => {
    const html = await (await s.fetch('/')).text();
    const manifest = JSON.parse(await readFile(join(root, 'dist/assets/manifest.json'), 'utf8')) as Record<string, string>;
    const links = [
      ...tags(html, 'link').map(attributes).map((a) => a.href ?? ''),
      ...tags(html, 'script').map(attributes).map((a) => a.src ?? ''),
    ];
    for (const [source, type] of [['style.css', /^text\/css/], ['app.js', /javascript/], ['favicon.svg', /^image\/svg\+xml/]] as const) {
      const built = manifest[source] ?? '';
      assert.match(built, /-[A-Z0-9]{8}\.\w+$/, `${source} has a hashed name`);
      assert.ok(links.includes(`/assets/${built}`), `the page links ${built}`);
      const res = await s.fetch(`/assets/${built}`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', type);
      assert.equal(res.headers.get('cache-control'), 'public, max-age=31536000, immutable');
      assert.equal(await res.text(), await readFile(join(root, 'dist/assets', built), 'utf8'));
    }
  });

  it('loads nothing from another origin and runs no inline script', async () => {
    const html = await (await s.fetch('/')).text();
    const urls = [...tags(html, 'link'), ...tags(html, 'script'), ...tags(html, 'img')].map(attributes).map((a) => a.href ?? a.src ?? '');
    assert.ok(urls.every((url) => url.startsWith('/')), `only same-origin assets: ${urls.join(' ')}`);
    assert.ok(tags(html, 'script').map(attributes).every((a) => a.src !== undefined), 'every script is a file');
  });

  it('does not serve the asset manifest or the old /static path', async () => {
    assert.equal((await s.fetch('/assets/manifest.json')).status, 404);
    assert.equal((await s.fetch('/static/style.css')).status, 404);
  });
});

describe("the upload page script's requests", () => {
  let s: TestServer;
  before(async () => { s = await startTestServer(); });
  after(() => s.close());

  const json = { accept: 'application/json' };

  it('gets 201 JSON with the delete token when it posts the form asking for JSON', async () => {
    const { cookie, token } = await openForm(s);
    const res = await postForm(s, formBody({}, [{ data: await png('#123456'), filename: 'script.png' }]), { ...json, cookie, 'x-xsrf-token': token });
    assert.equal(res.status, 201);
    const { images } = await res.json() as { images: UploadedImage[] };
    const [image] = images;
    assert.equal(images.length, 1);
    assert.equal(image?.name, 'script.png');
    assert.match(image.delete_token, /\S{16,}/);
    assert.deepEqual((await listed(s)).map((i) => i.id), [image.id]);
  });

  it('gets refusals as JSON messages, not error pages', async () => {
    const { cookie, token } = await openForm(s);
    const res = await postForm(s, formBody({}, [{ data: Buffer.from('plain text'), filename: 'x.png' }]), { ...json, cookie, 'x-xsrf-token': token });
    assert.equal(res.status, 400);
    assert.deepEqual(await res.json(), { status: 400, error: 'NOT_AN_IMAGE', message: 'cannot identify image file', request_id: res.headers.get('x-request-id') });
    const forged = await postForm(s, formBody({}, [{ data: await png('#654321'), filename: 'y.png' }]), { ...json, cookie, 'x-xsrf-token': 'forged' });
    assert.equal(forged.status, 403);
    assert.equal((await forged.json() as { error: string }).error, 'XSRF');
  });

  it('deletes an image with its delete token and the page token, and only then', async () => {
    const image = await s.uploadOk(await png('#abcdef'));
    const { cookie, token } = await openForm(s);
    const del = (headers: Record<string, string>, deleteToken: string) => s.fetch(`/i/${image.id}/delete`, {
      method: 'POST', headers: { ...json, 'content-type': 'application/json', ...headers }, body: JSON.stringify({ delete_token: deleteToken }),
    });
    assert.equal((await del({ cookie }, image.delete_token)).status, 403, 'no page token');
    assert.equal((await del({ cookie, 'x-xsrf-token': token }, 'wrong')).status, 403, 'wrong delete token');
    assert.equal((await s.fetch(`/api/images/${image.id}`)).status, 200, 'still there');
    assert.equal((await del({ cookie, 'x-xsrf-token': token }, image.delete_token)).status, 204);
    assert.equal((await s.fetch(`/api/images/${image.id}`)).status, 404, 'deleted');
    assert.equal((await del({ cookie, 'x-xsrf-token': token }, image.delete_token)).status, 404, 'deleting twice is a 404');
  });

  it('answers a delete without a JSON token field with 400', async () => {
    const image = await s.uploadOk(await png('#fedcba'));
    const res = await s.fetch(`/i/${image.id}/delete`, { method: 'POST', headers: { ...json, 'content-type': 'application/json' }, body: '{}' });
    assert.equal(res.status, 400);
    assert.equal((await s.fetch(`/api/images/${image.id}`)).status, 200);
  });
});

describe('GET / with a cursor (the "Older images" link)', () => {
  let s: TestServer;
  before(async () => { s = await startTestServer({ recent_count: 2 }); });
  after(() => s.close());

  it('pages through every image, newest first, ending without a link', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.unshift((await s.uploadOk(await png(`#0${String(i)}0${String(i)}0${String(i)}`))).id);
    const seen: string[] = [];
    let path: string | undefined = '/';
    while (path !== undefined) {
      const html = await (await s.fetch(path)).text();
      seen.push(...recentList(html).map((item) => item.href.replace('/i/', '')));
      path = tags(html, 'a').map(attributes).find((a) => 'data-more' in a)?.href;
    }
    assert.deepEqual(seen, ids);
  });

  it('answers a malformed cursor with 400', async () => {
    assert.equal((await s.fetch('/?before=abc')).status, 400);
  });
});
