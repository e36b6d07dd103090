// Every link the API answers with is absolute, as a client keeps it: on --public_url when set,
// otherwise on the address the request reached (X-Forwarded-Proto and -Host believed only from
// --trusted_proxies). The same for both upload routes, one image's JSON and the listing.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formBody, openForm, postForm } from '../helpers/form.js';
import { solid } from '../helpers/images.js';
import { withServer, type TestServer, type UploadedImage } from '../helpers/server.js';
import { exchange } from '../hostile/raw-http.js';

/** The image JSON of every route that gives one, each asked with `headers`. */
async function everyAnswer(s: TestServer, headers: Record<string, string>): Promise<Map<string, UploadedImage>> {
  const answers = new Map<string, UploadedImage>();
  const api = await s.uploadOk(await solid(40, 30, '#204080'), { filename: 'api.png', headers });
  answers.set('POST /api/images', api);
  const session = await openForm(s);
  const form = formBody({ _xsrf: session.token }, [
    { data: await solid(30, 40, '#408020'), filename: 'form-1.png' }, { data: await solid(20, 20, '#802040'), filename: 'form-2.png' },
  ]);
  const posted = await postForm(s, form, { ...headers, cookie: session.cookie, accept: 'application/json' });
  assert.equal(posted.status, 201);
  const { images } = await posted.json() as { images: UploadedImage[] };
  images.forEach((image, i) => answers.set(`POST / (file ${String(i + 1)})`, image));
  answers.set('GET /api/images/<id>', await (await s.fetch(`/api/images/${api.id}`, { headers })).json() as UploadedImage);
  const listed = await (await s.fetch('/api/images', { headers })).json() as { images: UploadedImage[] };
  listed.images.forEach((image) => answers.set(`GET /api/images (${image.name ?? image.id})`, image));
  return answers;
}

/** Asserts each answer's links are its own, on `base`, and that each serves. */
async function assertLinksOn(s: TestServer, answers: Map<string, UploadedImage>, base: string): Promise<void> {
  assert.ok(answers.size >= 6, [...answers.keys()].join(', '));
  for (const [route, image] of answers) {
    assert.equal(image.url, `${base}/imgs/${image.id}/orig`, route);
    assert.equal(image.thumb_url, `${base}/imgs/${image.id}/thumb`, route);
    assert.equal(image.page_url, `${base}/i/${image.id}`, route);
    assert.deepEqual(image.variants, Object.fromEntries(['small', 'medium', 'large'].map((name) => [name, `${base}/imgs/${image.id}/${name}`])), route);
    for (const link of [image.url, image.thumb_url, image.page_url, image.variants.small ?? '']) {
      const res = await s.fetch(link);
      await res.arrayBuffer();
      assert.equal(res.status, 200, `${route}: ${link}`);
    }
  }
}

describe('API links without --public_url', () => {
  withServer({}, (server) => {
    it('are absolute on the address the request reached', async () => {
      await assertLinksOn(server(), await everyAnswer(server(), {}), server().url);
    });

    it('cannot be built on a Host that is no host: the upload is refused (400) and nothing is stored', async () => {
      const s = server();
      const listed = async () => ((await (await s.fetch('/api/images?limit=100')).json()) as { images: unknown[] }).images.length;
      const before = await listed();
      const png = await solid(10, 10, '#000000');
      const head = `POST /api/images HTTP/1.1\r\nhost: evil.example](x)\r\ncontent-type: image/png\r\ncontent-length: ${String(png.length)}\r\nconnection: close\r\n\r\n`;
      const answer = await exchange(s.url, Buffer.concat([Buffer.from(head), png]));
      assert.equal(answer.status, 400);
      assert.match(answer.body, /"error":"BAD_HOST"/);
      assert.equal(await listed(), before);
    });

    it('ignore X-Forwarded-Proto and -Host from a peer that is not a trusted proxy', async () => {
      const answers = await everyAnswer(server(), { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.example' });
      await assertLinksOn(server(), answers, server().url);
    });
  });
});

describe('API links behind a trusted proxy', () => {
  withServer({ trusted_proxies: '127.0.0.1' }, (server) => {
    it('are absolute on the scheme and host the proxy forwards', async () => {
      const answers = await everyAnswer(server(), { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'img.example.org' });
      await assertLinksOn(server(), answers, 'https://img.example.org');
    });
  });
});

describe('API links with --public_url', () => {
  withServer({ public_url: 'https://img.example.com/pics/' }, (server) => {
    it('are absolute on it, path included, whatever the request says', async () => {
      const answers = await everyAnswer(server(), { 'x-forwarded-proto': 'http', 'x-forwarded-host': 'other.example' });
      await assertLinksOn(server(), answers, 'https://img.example.com/pics');
    });
  });
});
