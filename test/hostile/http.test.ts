// Abuse at the HTTP level: bodies over max_upload_size cut off early, slow-loris clients timed
// out with 408, multipart bodies with thousands of parts or monstrous headers, and ids that try
// to escape, hide NUL bytes, run long or leave ASCII. Each gets the right 4xx in the JSON error
// shape with nosniff, never a 5xx, and nothing is left stored or spooled.
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '../helpers/async.js';
import { BOUNDARY, multipartBody, multipartHead, stalled, streamedInit } from '../helpers/bodies.js';
import { photo } from '../helpers/images.js';
import { startTestServer, type TestServer, type UploadedImage } from '../helpers/server.js';
import { assertNothingHalfStored, assertRefusal, assertServed } from './answers.js';
import { exchange, simpleRequest } from './raw-http.js';

const MULTIPART = `multipart/form-data; boundary=${BOUNDARY}`;
const LIMIT = 1_000_000;

const postMultipart = (s: TestServer, body: Buffer, contentType = MULTIPART) =>
  s.fetch('/api/images', { method: 'POST', body: new Uint8Array(body), headers: { 'content-type': contentType } });

/** A multipart part built by hand: `head` is everything between the boundary line and the blank line. */
const part = (head: string, data: Buffer | string): Buffer =>
  Buffer.concat([Buffer.from(`--${BOUNDARY}\r\n${head}\r\n\r\n`), Buffer.from(data), Buffer.from('\r\n')]);
const closing = Buffer.from(`--${BOUNDARY}--\r\n`);

describe('HTTP-level abuse', () => {
  let s: TestServer;
  let png: Buffer;
  const accepted: UploadedImage[] = [];
  before(async () => {
    s = await startTestServer({ max_upload_size: LIMIT });
    png = await photo(64, 48, 'png');
  });
  after(() => s.close());

  describe('bodies larger than max_upload_size', () => {
    it('answers 413 to an announced Content-Length over the limit and closes without reading the body', async () => {
      const head = `POST /api/images HTTP/1.1\r\nhost: localhost\r\ncontent-type: image/png\r\ncontent-length: ${String(100 * LIMIT)}\r\n\r\n`;
      const answer = await exchange(s.url, Buffer.concat([Buffer.from(head), Buffer.alloc(1024)]));
      assert.equal(answer.status, 413);
      assert.equal(answer.headers['x-content-type-options'], 'nosniff');
      assert.match(answer.body, /"error":"TOO_LARGE"/);
      // Only 1 KB of the announced 100 MB was sent: the server hung up instead of waiting for it.
      assert.notEqual(answer.closedAfterMs, null, 'the server closed the connection');
    });

    for (const [what, contentType, opening] of [
      ['a raw body', 'image/png', Buffer.alloc(0)],
      ['a multipart file', MULTIPART, multipartHead()],
    ] as const) {
      it(`answers 413 to ${what} sent chunked without a length as soon as it passes the limit`, async () => {
        // The client never ends the body: only the server answering early ends the request.
        const body = stalled(Buffer.concat([opening, Buffer.alloc(LIMIT + 200_000, 7)]));
        const res = await s.fetch('/api/images', streamedInit(body, contentType));
        await assertRefusal(res, 413, /larger than the 977 KiB limit/);
      });
    }
  });

  describe('multipart bodies', () => {
    it('refuses thousands of fields before the file (413)', async () => {
      const fields = Array.from({ length: 2000 }, (_, i) => part(`content-disposition: form-data; name="f${String(i)}"`, 'v'));
      await assertRefusal(await postMultipart(s, Buffer.concat([...fields, multipartBody(png)])), 413, /fields limit/);
    });

    it('refuses thousands of file parts (413)', async () => {
      const files = Array.from({ length: 3000 }, (_, i) => part(`content-disposition: form-data; name="x${String(i)}"; filename="x.png"`, 'abc'));
      await assertRefusal(await postMultipart(s, Buffer.concat([...files, multipartBody(png)])), 413, /files limit/);
    });

    it('refuses a file name hundreds of kilobytes long, past what the parser keeps of a part header (400)', async () => {
      const body = Buffer.concat([part(`content-disposition: form-data; name="file"; filename="${'a'.repeat(200_000)}.png"`, png), closing]);
      await assertRefusal(await postMultipart(s, body), 400, /file name is longer than 255 characters/);
    });

    it('refuses file names with NUL or other control characters (400)', async () => {
      for (const name of ['a\0b.png', 'tab\there.png', 'bell\x07.png', 'escape\x1b[31m.png']) {
        const body = Buffer.concat([part(`content-disposition: form-data; name="file"; filename="${name}"`, png), closing]);
        await assertRefusal(await postMultipart(s, body), 400, /file name contains control characters/, JSON.stringify(name));
      }
      const raw = await s.fetch(`/api/images?name=${encodeURIComponent('a\0b.png')}`, { method: 'POST', body: new Uint8Array(png), headers: { 'content-type': 'image/png' } });
      await assertRefusal(raw, 400, /control characters/);
    });

    it('keeps at most a bounded part header: a megabyte of junk header is dropped and the file read right', async () => {
      const body = Buffer.concat([part(`content-disposition: form-data; name="file"; filename="a.png"\r\nx-junk: ${'j'.repeat(1_000_000)}`, png), closing]);
      const res = await postMultipart(s, body);
      const image = await res.json() as UploadedImage;
      assert.equal(res.status, 201);
      assert.equal(image.name, 'a.png');
      accepted.push(image);
      await assertServed(s, image, png, 'image/png');
    });

    it('ignores a part with thousands of header lines, so finds no file (400)', async () => {
      const lines = Array.from({ length: 2000 }, (_, i) => `x-h${String(i)}: v`).join('\r\n');
      const body = Buffer.concat([part(`${lines}\r\ncontent-disposition: form-data; name="file"; filename="a.png"`, png), closing]);
      await assertRefusal(await postMultipart(s, body), 400, /no 'file' field/);
    });

    it('refuses a multipart body without a boundary, with the wrong one, or cut inside a part (400)', async () => {
      const body = multipartBody(png);
      await assertRefusal(await postMultipart(s, body, 'multipart/form-data'), 400, /malformed multipart body: .*Boundary not found/);
      await assertRefusal(await postMultipart(s, body, 'multipart/form-data; boundary=nope'), 400, /malformed multipart body/);
      await assertRefusal(await postMultipart(s, body.subarray(0, 300)), 400, /malformed multipart body/);
      await assertRefusal(await postMultipart(s, body, 'multipart/form-data; boundary='), 400, /no 'file' field/);
    });

    it('refuses an HTML body sent as text/html (415)', async () => {
      const res = await s.fetch('/api/images', { method: 'POST', body: '<html><script>alert(1)</script></html>', headers: { 'content-type': 'text/html' } });
      await assertRefusal(res, 415, /Unsupported Media Type/);
    });
  });

  describe('ids', () => {
    let image: UploadedImage;
    before(async () => {
      image = await s.uploadOk(png, { filename: 'kept.png' });
      accepted.push(image);
    });

    /** Every request that takes an id, as the raw request target. */
    const targets = (id: string): [string, string][] => [
      ['GET', `/imgs/${id}/orig`], ['GET', `/imgs/${id}/thumb`], ['GET', `/i/${id}`],
      ['GET', `/api/images/${id}`], ['DELETE', `/api/images/${id}`],
    ];

    const answersWith = async (status: number, ids: string[]) => {
      for (const id of ids) {
        for (const [method, path] of targets(id)) {
          const answer = await exchange(s.url, simpleRequest(method, path, { 'x-delete-token': image.delete_token }));
          const what = `${method} ${path.slice(0, 80)}`;
          assert.equal(answer.status, status, `${what}: ${answer.body.slice(0, 200)}`);
          assert.equal(answer.headers['x-content-type-options'], 'nosniff', what);
        }
      }
    };

    it('answers 404 to ids that climb out with ../, raw or escaped', async () => {
      await answersWith(404, ['..', '../../../etc/passwd', '..%2F..%2F..%2Fetc%2Fpasswd', '%2e%2e', `..%2F${image.id}`]);
    });

    it('answers 404 to ids with NUL bytes', async () => {
      await answersWith(404, ['%00', `${image.id}%00`, `${image.id.slice(0, 15)}%00`, `%00${image.id}`]);
    });

    it('answers 404 to ids far longer than an id, up to what a request line may carry', async () => {
      await answersWith(404, [`${image.id}A`, 'A'.repeat(101), 'A'.repeat(5000)]);
    });

    it('answers 404 to percent-encoded unicode ids', async () => {
      await answersWith(404, [encodeURIComponent('ÄÖÜäöüßéèêëïîôûç'), encodeURIComponent('🙂'.repeat(8)), encodeURIComponent(`${image.id.slice(0, 15)}é`)]);
    });

    it('answers 400 to escapes that do not decode to UTF-8, and to raw non-ASCII bytes in the path', async () => {
      await answersWith(400, ['%zz', '%', '%C0%AE%C0%AE', '%ff%fe', `${image.id}%E2%82`, 'ÄÖÜäöüßéèêëïîôûç', '🙂'.repeat(8)]);
    });

    it('answers 431 to a request line longer than the server reads, and 400 to bytes that are not HTTP', async () => {
      const long = await exchange(s.url, simpleRequest('GET', `/imgs/${'A'.repeat(20_000)}/orig`));
      assert.equal(long.status, 431);
      assert.match(long.body, /"error":"HEADERS_TOO_LARGE"/);
      const garbage = await exchange(s.url, Buffer.from('\x00\x01\x02 not http at all\r\n\r\n'));
      assert.equal(garbage.status, 400);
      assert.match(garbage.body, /"error":"MALFORMED_HTTP"/);
      for (const answer of [long, garbage]) {
        assert.equal(answer.headers['x-content-type-options'], 'nosniff');
        assert.notEqual(answer.closedAfterMs, null);
      }
    });

    it('still serves the image none of those requests could name or delete', async () => {
      await assertServed(s, image, png, 'image/png');
    });
  });

  it('leaves the server ready with nothing stored or spooled but the accepted images', async () => {
    await assertNothingHalfStored(s, accepted);
  });
});

describe('slow-loris clients', () => {
  let s: TestServer;
  let png: Buffer;
  const accepted: UploadedImage[] = [];
  before(async () => {
    s = await startTestServer({ request_timeout: 1 });
    png = await photo(64, 48, 'png');
  });
  after(() => s.close());

  /** Asserts a 408 in the JSON error shape, with the connection closed soon after request_timeout. */
  const assertTimedOut = (answer: Awaited<ReturnType<typeof exchange>>) => {
    assert.equal(answer.status, 408, answer.body);
    assert.match(answer.body, /"error":"REQUEST_TIMEOUT"/);
    assert.equal(answer.headers['x-content-type-options'], 'nosniff');
    assert.notEqual(answer.closedAfterMs, null, 'the server closed the connection');
  };

  it('times out headers that never end (408, connection closed)', async () => {
    assertTimedOut(await exchange(s.url, 'POST /api/images HTTP/1.1\r\nhost: localhost\r\ncontent-type: image/png\r\n'));
  });

  it('times out a body that stops arriving (408) and removes what was spooled', async () => {
    const res = await s.fetch('/api/images', streamedInit(stalled(multipartBody(png).subarray(0, 500)), MULTIPART));
    await assertRefusal(res, 408, /not received in time/);
    await waitFor(async () => (await readdir(join(s.dataDir, 'tmp'))).length === 0, 'the spooled part to be removed');
  });

  it('times out a body dripped a few bytes at a time, though bytes keep coming (408)', async () => {
    const head = 'POST /api/images HTTP/1.1\r\nhost: localhost\r\ncontent-type: image/png\r\ntransfer-encoding: chunked\r\n\r\n';
    const answer = await exchange(s.url, head, { drip: { bytes: '2\r\nAB\r\n', everyMs: 100 } });
    assertTimedOut(answer);
  });

  it('still takes a normal upload, and leaves nothing stored or spooled by the timed-out ones', async () => {
    const image = await s.uploadOk(png);
    accepted.push(image);
    await assertServed(s, image, png, 'image/png');
    await assertNothingHalfStored(s, accepted);
  });
});
