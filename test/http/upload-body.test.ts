// The refusal of an oversized body before any of it is read follows each route's own `files`
// setting: a route that takes three files may be sent three files' worth, one that takes one
// file (or says nothing) only one file's worth.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { errorHandler } from '../../src/http/error-handler.js';
import { refuseOversizeBodies } from '../../src/http/upload-body.js';

const LIMIT = 1000;

describe('refuseOversizeBodies', () => {
  let app: FastifyInstance;
  before(async () => {
    app = Fastify();
    app.addHook('onRequest', refuseOversizeBodies(LIMIT));
    app.setErrorHandler(errorHandler(() => Promise.resolve(), false));
    const received = (request: { body: unknown }) => ({ received: String(request.body).length });
    app.post('/one', { config: { files: 1 } }, received);
    app.post('/three', { config: { files: 3 } }, received);
    app.post('/unsaid', received);
    await app.ready();
  });
  after(() => app.close());

  const post = (url: string, bytes: number) => app.inject({ method: 'POST', url, headers: { 'content-type': 'text/plain' }, payload: 'x'.repeat(bytes) });

  it("reads a body within the route's files' worth", async () => {
    for (const [url, bytes] of [['/one', LIMIT], ['/three', 3 * LIMIT], ['/unsaid', LIMIT]] as const) {
      const res = await post(url, bytes);
      assert.equal(res.statusCode, 200, url);
      assert.deepEqual(res.json(), { received: bytes });
    }
  });

  it("refuses with 413 TOO_LARGE a body announcing more than the route's files' worth", async () => {
    for (const [url, bytes] of [['/one', LIMIT + 1], ['/three', 3 * LIMIT + 1], ['/unsaid', LIMIT + 1]] as const) {
      const res = await post(url, bytes);
      assert.equal(res.statusCode, 413, url);
      assert.equal(res.json<{ error: string }>().error, 'TOO_LARGE');
    }
  });

  it('leaves room for multipart boundaries and fields around the files', async () => {
    const res = await app.inject({ method: 'POST', url: '/one', headers: { 'content-type': 'multipart/form-data; boundary=b' }, payload: 'x'.repeat(2 * LIMIT) });
    // Not refused for its length: it reaches the route, where nothing here parses multipart.
    assert.equal(res.statusCode, 415);
  });
});
