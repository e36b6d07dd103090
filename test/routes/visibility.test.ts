// Per-upload visibility and lifetime on the embedded store, through the real server: an unlisted
// image is served by its link but never listed; an expiring one answers 410 on every link once its
// time is up, and still once the sweep has removed its files; a view-limited one serves exactly its
// views of the original under concurrent GETs; bad terms store nothing; nothing given changes nothing.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { assertVerifyClean, leftovers } from '../helpers/data-dir.js';
import { formBody, openForm, postForm } from '../helpers/form.js';
import { photo } from '../helpers/images.js';
import { listedIds } from '../helpers/listing.js';
import { FsStore } from '../../src/store/fs.js';
import { startTestServer, tempDir, type TestServer, type UploadedImage } from '../helpers/server.js';

type Terms = Partial<Record<'unlisted' | 'expires_in' | 'max_views', string>>;
type WithTerms = UploadedImage & { unlisted: boolean; expires_at: string | null; max_views: number | null };

/** POST /api/images with the terms as form fields ahead of the file, as a browser and `curl -F` send them. */
function uploadWith(s: TestServer, data: Buffer, terms: Terms): Promise<Response> {
  return s.fetch('/api/images', { method: 'POST', body: formBody(terms, [{ data, filename: 'photo.jpg', type: 'image/jpeg' }]) });
}

async function uploadedWith(s: TestServer, data: Buffer, terms: Terms): Promise<WithTerms> {
  const res = await uploadWith(s, data, terms);
  const body = await res.text();
  assert.equal(res.status, 201, body);
  return JSON.parse(body) as WithTerms;
}

/** Every link that takes the image's id, each answered with `status`. */
async function assertLinks(s: TestServer, image: UploadedImage, status: number, message?: RegExp): Promise<void> {
  for (const link of [image.url, image.thumb_url, `/imgs/${image.id}/small`, image.page_url, `/api/images/${image.id}`]) {
    const res = await s.fetch(link, link.includes('/api/') ? {} : { headers: { accept: 'text/html' } });
    const body = await res.text();
    assert.equal(res.status, status, `${link}: ${body.slice(0, 200)}`);
    if (message && link.includes('/api/')) assert.match(body, message);
  }
}

async function storedKeys(s: TestServer): Promise<Set<string>> {
  const keys = new Set<string>();
  for await (const blob of s.server.library.store.list()) keys.add(blob.key);
  return keys;
}

describe('per-upload visibility and lifetime', () => {
  let s: TestServer;
  before(async () => { s = await startTestServer({ expiry_sweep: 1, variants: 'small:64' }); });
  after(() => s.close());

  describe('with no terms given', () => {
    it('stores a listed image kept until deleted, as before', async () => {
      const image = await uploadedWith(s, await photo(41, 31), {});
      assert.deepEqual([image.unlisted, image.expires_at, image.max_views], [false, null, null]);
      assert.ok((await listedIds(s.url)).has(image.id));
      const orig = await s.fetch(image.url);
      assert.equal(orig.status, 200);
      assert.equal(orig.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    });
  });

  describe('unlisted', () => {
    it('leaves the image out of GET /api/images and the home page, and serves it by its links', async () => {
      const image = await uploadedWith(s, await photo(42, 32), { unlisted: 'on' });
      assert.equal(image.unlisted, true);
      assert.equal((await listedIds(s.url)).has(image.id), false);
      assert.equal((await (await s.fetch('/')).text()).includes(image.id), false, 'not on the home page grid');
      await assertLinks(s, image, 200);
      assert.equal((await (await s.fetch(`/api/images/${image.id}`)).json() as WithTerms).unlisted, true);
    });

    it('is taken from the query of a raw-body upload', async () => {
      const res = await s.fetch('/api/images?unlisted=1&name=raw.jpg', { method: 'POST', body: new Uint8Array(await photo(43, 33)), headers: { 'content-type': 'image/jpeg' } });
      assert.equal(res.status, 201);
      const image = await res.json() as WithTerms;
      assert.equal(image.unlisted, true);
      assert.equal((await listedIds(s.url)).has(image.id), false);
    });

    it('applies to every file of a form post, from the field ahead of them', async () => {
      const session = await openForm(s);
      const files = [{ data: await photo(44, 34), filename: 'a.jpg' }, { data: await photo(45, 35), filename: 'b.jpg' }];
      const res = await postForm(s, formBody({ _xsrf: session.token, unlisted: 'on', max_views: '5' }, files), { cookie: session.cookie, accept: 'application/json' });
      assert.equal(res.status, 201);
      const { images } = await res.json() as { images: WithTerms[] };
      assert.deepEqual(images.map((i) => [i.unlisted, i.max_views]), [[true, 5], [true, 5]]);
    });

    it('the upload page offers the choices ahead of its file input', async () => {
      const html = await (await s.fetch('/')).text();
      const at = (needle: string) => html.indexOf(needle);
      for (const name of ['name="unlisted"', 'name="expires_in"', 'name="max_views"']) {
        assert.ok(at(name) > 0 && at(name) < at('type="file"'), name);
      }
    });
  });

  describe('expires_in', () => {
    it('is listed until it expires, then answers 410 on every link, and the sweep removes its files', async () => {
      const before = Date.now();
      const image = await uploadedWith(s, await photo(46, 36), { expires_in: '2s' });
      const expiresAt = Date.parse(image.expires_at ?? '');
      assert.ok(expiresAt >= before + 2000 && expiresAt <= Date.now() + 2000, image.expires_at ?? 'null');
      assert.ok((await listedIds(s.url)).has(image.id));
      await assertLinks(s, image, 200);
      const orig = await s.fetch(image.url);
      const maxAge = Number(/max-age=(\d+)/.exec(orig.headers.get('cache-control') ?? '')?.[1]);
      assert.ok(maxAge <= 2, `cached no longer than it lives: ${String(orig.headers.get('cache-control'))}`);
      await orig.arrayBuffer();
      const made = await storedKeys(s);
      assert.ok(made.has(image.sha256));

      await sleep(Math.max(0, expiresAt - Date.now()) + 50);
      await assertLinks(s, image, 410, /this image expired/);
      assert.equal((await listedIds(s.url)).has(image.id), false);

      // The sweep runs every second here (--expiry_sweep=1): the original, thumbnail and variant go.
      const deadline = Date.now() + 5000;
      while ((await storedKeys(s)).has(image.sha256) && Date.now() < deadline) await sleep(100);
      const left = await storedKeys(s);
      assert.equal(left.has(image.sha256), false, 'the original is removed');
      assert.equal([...made].filter((key) => !left.has(key)).length >= 3, true, 'thumbnail and variant go with it');
      await assertLinks(s, image, 410, /this image expired/);
      await assertVerifyClean(s.dataDir);
    });
  });

  describe('max_views', () => {
    it('serves exactly that many concurrent GETs of the original, then 410 on every link', async () => {
      const image = await uploadedWith(s, await photo(47, 37), { max_views: '3' });
      assert.equal(image.max_views, 3);
      assert.equal((await listedIds(s.url)).has(image.id), false, 'a view-limited image is never listed');
      // Neither HEAD nor the thumbnail spends a view, nor a variant URL, which it has none of.
      for (let i = 0; i < 3; i++) {
        assert.equal((await s.fetch(image.url, { method: 'HEAD' })).status, 200);
        assert.equal((await s.fetch(image.thumb_url)).status, 200);
        assert.equal((await s.fetch(`/imgs/${image.id}/small`)).status, 404);
      }
      const answers = await Promise.all(Array.from({ length: 12 }, async () => {
        const res = await s.fetch(image.url);
        const body = Buffer.from(await res.arrayBuffer());
        return { status: res.status, body, cache: res.headers.get('cache-control') };
      }));
      const served = answers.filter((a) => a.status === 200);
      assert.equal(served.length, 3);
      assert.equal(answers.filter((a) => a.status === 410).length, 9);
      for (const a of served) {
        assert.equal(a.body.length, image.bytes, 'a counted view is served whole');
        assert.equal(a.cache, 'private, no-store', 'no cache may serve an uncounted view');
      }
      await assertLinks(s, image, 410, /viewed as many times as its uploader allowed/);
    });

    it('has a page that shows the original alone and no preview picture for unfurlers', async () => {
      const image = await uploadedWith(s, await photo(300, 200), { max_views: '2' });
      const html = await (await s.fetch(image.page_url)).text();
      assert.match(html, new RegExp(`<img class="full" src="/imgs/${image.id}/orig" srcset=""`));
      assert.doesNotMatch(html, /og:image/);
      assert.equal((await s.fetch(`/api/oembed?url=${encodeURIComponent(image.page_url)}`)).status, 404);
      assert.equal((await s.fetch(image.url)).status, 200, 'the page itself spent no view');
    });
  });

  describe('imghost gc', () => {
    it('removes an expired image and its files while the server that would sweep it is stopped', async () => {
      const dataDir = await tempDir();
      const idle = await startTestServer({ expiry_sweep: 3600, data_dir: dataDir });
      let image: WithTerms;
      try {
        image = await uploadedWith(idle, await photo(51, 41), { expires_in: '1' });
        await sleep(Math.max(0, Date.parse(image.expires_at ?? '') - Date.now()) + 50);
        assert.equal((await idle.fetch(image.url)).status, 410);
        assert.ok((await storedKeys(idle)).has(image.sha256), 'the server has not swept it');
      } finally {
        await idle.close();
      }
      try {
        const gc = await runCli(['gc', `--data_dir=${dataDir}`]);
        assert.equal(gc.code, 0, gc.stderr);
        assert.ok(gc.stdout.includes(`removed expired image ${image.id}\n`), gc.stdout);
        await assertVerifyClean(dataDir);
        const keys: string[] = [];
        for await (const blob of new FsStore(join(dataDir, 'blobs')).list()) keys.push(blob.key);
        assert.equal(keys.includes(image.sha256), false, 'its original is gone from the store');
        assert.deepEqual((await leftovers(dataDir)).orphans, []);
      } finally {
        await rm(dataDir, { recursive: true, force: true });
      }
    });
  });

  describe('on a server with --public_listing=false', () => {
    it('stores an upload unlisted unless it says otherwise, so it stays out of a listing turned on later', async () => {
      const quiet = await startTestServer({ public_listing: false });
      try {
        assert.equal((await uploadedWith(quiet, await photo(49, 39), {})).unlisted, true);
        assert.equal((await uploadedWith(quiet, await photo(50, 40), { unlisted: '0' })).unlisted, false);
      } finally {
        await quiet.close();
      }
    });
  });

  describe('bad terms', () => {
    it('are refused with 400 naming the field, and nothing is stored', async () => {
      const keys = await storedKeys(s);
      const records = (await s.server.library.repo.list(1000)).length;
      const data = await photo(48, 38);
      const cases: [Terms, string][] = [
        [{ unlisted: 'maybe' }, 'unlisted'], [{ expires_in: '0' }, 'expires_in'], [{ expires_in: '1y' }, 'expires_in'],
        [{ max_views: '0' }, 'max_views'], [{ max_views: '-3' }, 'max_views'], [{ max_views: 'many' }, 'max_views'],
      ];
      for (const [terms, field] of cases) {
        const res = await uploadWith(s, data, terms);
        const body = await res.json() as { error: string; message: string };
        assert.equal(res.status, 400, JSON.stringify(terms));
        assert.equal(body.error, 'BAD_REQUEST');
        assert.ok(body.message.includes(`'${field}'`), body.message);
      }
      // Late, even past a second file the API discards: it is read for that.
      for (const files of [1, 2]) {
        const late = new FormData();
        for (let i = 0; i < files; i++) late.append('file', new Blob([new Uint8Array(data)], { type: 'image/jpeg' }), 'late.jpg');
        late.append('unlisted', 'on');
        const lateRes = await s.fetch('/api/images', { method: 'POST', body: late });
        assert.equal(lateRes.status, 400);
        assert.match((await lateRes.json() as { message: string }).message, /'unlisted' field must come before the file/);
      }
      const twice = await s.fetch('/api/images?max_views=2', { method: 'POST', body: formBody({ max_views: '2' }, [{ data, filename: 'x.jpg' }]) });
      assert.equal(twice.status, 400);
      await twice.arrayBuffer();
      const raw = await s.fetch('/api/images?expires_in=soon', { method: 'POST', body: new Uint8Array(data), headers: { 'content-type': 'image/jpeg' } });
      assert.equal(raw.status, 400);
      await raw.arrayBuffer();

      assert.equal((await s.server.library.repo.list(1000)).length, records, 'no record');
      assert.deepEqual(await storedKeys(s), keys, 'no file');
    });
  });
});
