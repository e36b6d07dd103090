// imghost behind Debian's nginx running deploy/nginx/imghost.conf: uploads, links, byte-exact
// files with imghost's headers, ranges, 304, the cache (hits that never reach imghost, view-limited
// images never cached, a deleted image gone within the cache's bound), the body limit, and
// --accel_redirect, where imghost decides and nginx sends the large files.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SMALL_BLOB } from '../../src/http/blob-cache.js';
import { FsStore } from '../../src/store/fs.js';
import { formBody } from '../helpers/form.js';
import { photo } from '../helpers/images.js';
import { startNginx, type Nginx } from '../helpers/nginx.js';
import { eventually, freePort } from '../helpers/process.js';
import { startTestServer, type TestServer, type UploadedImage } from '../helpers/server.js';

/** How long this nginx keeps an image (the documented 10 minutes, shortened to be waited for). */
const VALIDITY_S = 2;

/** The server, nginx in front of it, and the URL and X-Request-Id of each request imghost got. */
interface Site { s: TestServer; nginx: Nginx; reached: string[]; requestIds: string[] }

function frontedSuite(overrides: { accel_redirect?: string }, body: (site: () => Site) => void): void {
  let site: Site;
  before(async () => {
    const port = await freePort();
    const s = await startTestServer({ trusted_proxies: '127.0.0.1', ...overrides });
    const reached: string[] = [];
    const requestIds: string[] = [];
    s.server.app.server.on('request', (request: IncomingMessage) => {
      reached.push(request.url ?? '');
      requestIds.push(String(request.headers['x-request-id']));
    });
    const nginx = await startNginx({
      port, upstream: new URL(s.url).host, blobDir: join(s.dataDir, 'blobs'),
      workDir: await mkdtemp(join(tmpdir(), 'imghost-nginx-')), imageValidity: `${String(VALIDITY_S)}s`,
    });
    site = { s, nginx, reached, requestIds };
  });
  after(async () => { await site.nginx.close(); await site.s.close(); });
  body(() => site);
}

async function upload(nginx: Nginx, data: Buffer, fields: Record<string, string> = {}): Promise<UploadedImage> {
  const res = await fetch(`${nginx.url}/api/images`, { method: 'POST', body: formBody(fields, [{ data, filename: 'a.png', type: 'image/png' }]) });
  const text = await res.text();
  assert.equal(res.status, 201, text);
  return JSON.parse(text) as UploadedImage;
}

const path = (link: string) => new URL(link).pathname;
const bytes = async (res: Response) => Buffer.from(await res.arrayBuffer());
const timesReached = (site: Site, p: string) => site.reached.filter((u) => u === p).length;
/** A PNG of noise, larger than the blobs imghost keeps in memory; a new size each call. */
let larges = 0;
const large = async () => {
  const data = await photo(480 + ++larges, 360, 'png');
  assert.ok(data.length > SMALL_BLOB, String(data.length));
  return data;
};

describe('imghost behind the documented nginx configuration', () => {
  frontedSuite({}, (site) => {
    it('takes an upload and builds its links on the address the client used (X-Forwarded-Host and -Proto)', async () => {
      const image = await upload(site().nginx, await photo(64, 48, 'png'));
      assert.ok(image.url.startsWith(`${site().nginx.url}/imgs/`), image.url);
      assert.ok(image.thumb_url.startsWith(`${site().nginx.url}/imgs/`), image.thumb_url);
    });

    it('sends the original and the thumbnail byte for byte with imghost\'s headers, then from its cache without asking imghost', async () => {
      const { nginx, s } = site();
      const image = await upload(nginx, await photo(80, 60, 'png'));
      for (const link of [image.url, image.thumb_url]) {
        const direct = await s.fetch(path(link));
        const expected = await bytes(direct);
        const first = await fetch(`${nginx.url}${path(link)}`);
        assert.equal(first.status, 200);
        assert.equal(first.headers.get('x-cache-status'), 'MISS');
        assert.deepEqual(await bytes(first), expected);
        for (const name of ['etag', 'cache-control', 'content-type', 'last-modified']) assert.equal(first.headers.get(name), direct.headers.get(name), name);
        assert.equal(first.headers.get('x-content-type-options'), 'nosniff');
        const firstId = first.headers.get('x-request-id') ?? '';
        assert.match(firstId, /^[0-9a-f]{32}$/);
        assert.equal(site().requestIds.at(-1), firstId, 'imghost took nginx\'s $request_id');
        const before = timesReached(site(), path(link));
        const again = await fetch(`${nginx.url}${path(link)}`);
        assert.equal(again.headers.get('x-cache-status'), 'HIT');
        const againId = again.headers.get('x-request-id') ?? '';
        assert.match(againId, /^[0-9a-f]{32}$/);
        assert.notEqual(againId, firstId, 'a cached answer carries its own request id, not the one that filled the cache');
        assert.deepEqual(await bytes(again), expected);
        assert.equal(again.headers.get('etag'), direct.headers.get('etag'));
        assert.equal(timesReached(site(), path(link)), before, 'a hit never reaches imghost');
      }
    });

    it('answers a range with 206 and exactly its bytes, and If-None-Match with 304', async () => {
      const { nginx } = site();
      const data = await photo(90, 70, 'png');
      const image = await upload(nginx, data);
      const url = `${nginx.url}${path(image.url)}`;
      const whole = await bytes(await fetch(url));
      const part = await fetch(url, { headers: { range: 'bytes=10-109' } });
      assert.equal(part.status, 206);
      assert.equal(part.headers.get('content-range'), `bytes 10-109/${String(whole.length)}`);
      assert.deepEqual(await bytes(part), whole.subarray(10, 110));
      const etag = (await fetch(url, { method: 'HEAD' })).headers.get('etag') ?? '';
      assert.equal(etag, `"${image.sha256}"`);
      const unchanged = await fetch(url, { headers: { 'if-none-match': etag } });
      assert.equal(unchanged.status, 304);
    });

    it('stops serving a deleted image within the cache\'s validity', async () => {
      const { nginx } = site();
      const image = await upload(nginx, await photo(66, 44, 'png'));
      const url = `${nginx.url}${path(image.url)}`;
      assert.equal((await fetch(url)).status, 200);
      const deleted = await fetch(`${nginx.url}/api/images/${image.id}`, { method: 'DELETE', headers: { 'x-delete-token': image.delete_token } });
      assert.equal(deleted.status, 204);
      const began = Date.now();
      await eventually('the deleted image to answer 404', async () => (await fetch(url)).status === 404, (VALIDITY_S + 3) * 1000);
      // The validity, plus the request that finds it lapsed and the refresh nginx then makes.
      assert.ok(Date.now() - began < (VALIDITY_S + 2) * 1000, `gone after ${String(Date.now() - began)} ms`);
      // The 404 is what nginx now keeps.
      assert.equal((await fetch(url)).status, 404);
    });

    it('keeps one copy of a variant per format chosen from Accept', async () => {
      const { nginx } = site();
      const image = await upload(nginx, await photo(400, 300, 'jpeg'));
      const url = `${nginx.url}/imgs/${image.id}/small`;
      for (const round of ['MISS', 'HIT']) {
        for (const [accept, type] of [['image/webp,*/*', 'image/webp'], ['image/jpeg,*/*', 'image/jpeg']] as const) {
          const res = await fetch(url, { headers: { accept } });
          assert.equal(res.headers.get('content-type'), type, accept);
          assert.equal(res.headers.get('x-cache-status'), round, accept);
          await res.arrayBuffer();
        }
      }
    });

    it('never caches an image that counts its views: each GET reaches imghost and spends a view', async () => {
      const { nginx } = site();
      const image = await upload(nginx, await photo(50, 50, 'png'), { max_views: '2' });
      const p = path(image.url);
      for (let i = 0; i < 2; i++) {
        const res = await fetch(`${nginx.url}${p}`);
        assert.equal(res.status, 200);
        assert.equal(res.headers.get('cache-control'), 'private, no-store');
        assert.notEqual(res.headers.get('x-cache-status'), 'HIT');
        await res.arrayBuffer();
      }
      assert.equal(timesReached(site(), p), 2);
      assert.notEqual((await fetch(`${nginx.url}${p}`)).status, 200, 'the third view is refused');
    });

    it('never caches an image that expires: imghost decides each time whether it is still there', async () => {
      const { nginx } = site();
      const image = await upload(nginx, await photo(52, 52, 'png'), { expires_in: '3600' });
      const p = path(image.url);
      for (let i = 0; i < 2; i++) {
        const res = await fetch(`${nginx.url}${p}`);
        assert.equal(res.status, 200);
        assert.match(res.headers.get('cache-control') ?? '', /^public, max-age=\d+$/);
        await res.arrayBuffer();
      }
      assert.equal(timesReached(site(), p), 2);
    });

    it('refuses an upload over the size limit with 413 (nginx\'s past 33 MiB, imghost\'s past 32 MiB), and stores nothing', async () => {
      const { nginx, s } = site();
      const blobs = async () => (await readdir(join(s.dataDir, 'blobs'), { recursive: true })).filter((f) => !f.startsWith('.tmp')).length;
      const stored = await blobs();
      for (const size of [34 * 1024 * 1024, 32 * 1024 * 1024 + 1]) {
        const res = await fetch(`${nginx.url}/api/images`, { method: 'POST', body: formBody({}, [{ data: randomBytes(size), filename: 'big.png', type: 'image/png' }]) });
        assert.equal(res.status, 413, String(size));
        await res.arrayBuffer();
      }
      assert.equal(await blobs(), stored);
    });
  });
});

describe('imghost with --accel_redirect behind the documented nginx configuration', () => {
  frontedSuite({ accel_redirect: '/internal/' }, (site) => {
    const blobFile = (hash: string) => readFile(join(site().s.dataDir, 'blobs', new FsStore('').localPath(hash)));

    it('answers a direct GET of an original larger than its memory holds with X-Accel-Redirect to the blob\'s file and no body', async () => {
      const image = await upload(site().nginx, await large());
      const direct = await site().s.fetch(path(image.url));
      assert.equal(direct.status, 200);
      assert.equal(direct.headers.get('x-accel-redirect'), `/internal/${image.sha256.slice(0, 2)}/${image.sha256.slice(2, 4)}/${image.sha256}`);
      assert.equal((await bytes(direct)).length, 0);
    });

    it('sends a small file (the thumbnail) itself, and nginx answers its repeated GETs from the cache', async () => {
      const image = await upload(site().nginx, await large());
      const thumbPath = path(image.thumb_url);
      const direct = await site().s.fetch(thumbPath);
      assert.equal(direct.headers.get('x-accel-redirect'), null);
      const sent = await bytes(direct);
      assert.ok(sent.length > 0 && sent.length <= SMALL_BLOB);
      const reachedBefore = timesReached(site(), thumbPath);
      for (let i = 0; i < 3; i++) {
        const viaNginx = await fetch(`${site().nginx.url}${thumbPath}`);
        assert.deepEqual(await bytes(viaNginx), sent);
      }
      assert.equal(timesReached(site(), thumbPath), reachedBefore + 1, 'only the first GET through nginx reached imghost');
    });

    it('lets nginx send the file with imghost\'s headers and its ranges, and imghost answer 304', async () => {
      const { nginx, s } = site();
      const image = await upload(nginx, await large());
      const file = await blobFile(image.sha256);
      const url = `${nginx.url}${path(image.url)}`;
      const headOfImghost = await s.fetch(path(image.url), { method: 'HEAD' });
      const res = await fetch(url);
      assert.equal(res.status, 200);
      assert.deepEqual(await bytes(res), file);
      assert.equal(res.headers.get('x-accel-redirect'), null);
      for (const name of ['etag', 'cache-control', 'content-type', 'last-modified', 'content-security-policy']) assert.equal(res.headers.get(name), headOfImghost.headers.get(name), name);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(res.headers.get('x-request-id'), site().requestIds.at(-1), 'the id imghost was given and logged');
      const part = await fetch(url, { headers: { range: 'bytes=5-54' } });
      assert.equal(part.status, 206);
      assert.deepEqual(await bytes(part), file.subarray(5, 55));
      const unchanged = await fetch(url, { headers: { 'if-none-match': `"${image.sha256}"` } });
      assert.equal(unchanged.status, 304);
      assert.equal(timesReached(site(), path(image.url)), 4, 'imghost decided each answer (nginx caches no X-Accel-Redirect)');
    });

    it('still counts each view of a view-limited original', async () => {
      const { nginx } = site();
      const image = await upload(nginx, await large(), { max_views: '1' });
      const first = await fetch(`${nginx.url}${path(image.url)}`);
      assert.equal(first.status, 200);
      assert.deepEqual(await bytes(first), await blobFile(image.sha256));
      assert.notEqual((await fetch(`${nginx.url}${path(image.url)}`)).status, 200, 'the second view is refused');
    });
  });
});
