// Every request has an id (src/http/request-id.ts): sent back as X-Request-Id and in an error's
// body, and written on the request's access log line with its route, status, bytes and time, so a
// user's report finds its line. A proxy's id is kept only from --trusted_proxies, and only when
// well formed.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { defaults, type Config } from '../../src/config/options.js';
import { startServer, type RunningServer } from '../../src/start-server.js';
import { photo } from '../helpers/images.js';
import { multipart, tempDir } from '../helpers/server.js';

interface LogLine {
  msg: string; reqId?: string; route?: string; bytes?: number; responseTime?: number;
  req?: { method: string; url: string }; res?: { statusCode: number };
}

/** A real server on loopback whose log lines are kept, parsed. */
function loggedServer(overrides: Partial<Config>): { url: () => string; lines: LogLine[]; completed: (id: string) => LogLine | undefined } {
  const lines: LogLine[] = [];
  const sink = new Writable({ write(chunk: Buffer, _encoding, done) { lines.push(JSON.parse(chunk.toString()) as LogLine); done(); } });
  let server: RunningServer;
  let dataDir: string;
  before(async () => {
    dataDir = await tempDir();
    const config = { ...defaults(), port: 0, address: '127.0.0.1', logging: 'info' as const, data_dir: dataDir, thumb_nice: 0, ...overrides };
    server = await startServer(config, pino({ level: 'info' }, sink));
  });
  after(async () => {
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  });
  return {
    url: () => server.url,
    lines,
    completed: (id) => lines.find((line) => line.msg === 'request completed' && line.reqId === id),
  };
}

/** The request's log line is written once the answer has gone out: wait a moment for it. */
async function lineOf(server: ReturnType<typeof loggedServer>, id: string): Promise<LogLine> {
  for (let i = 0; i < 50; i++) {
    const line = server.completed(id);
    if (line) return line;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.fail(`no log line for ${id}: ${JSON.stringify(server.lines)}`);
}

describe('a request\'s id, with no trusted proxy', () => {
  const s = loggedServer({ trusted_proxies: '' });

  it('is generated, sent back in the header and the error body, and names the log line with route, status, bytes and time', async () => {
    const res = await fetch(`${s.url()}/imgs/nosuchimage/orig`);
    const id = res.headers.get('x-request-id') ?? '';
    const body = await res.json() as { status: number; request_id: string };
    assert.equal(res.status, 404);
    assert.match(id, /^[0-9a-f]{16}$/);
    assert.equal(body.request_id, id);
    const line = await lineOf(s, id);
    assert.equal(line.req?.method, 'GET');
    assert.equal(line.req.url, '/imgs/nosuchimage/orig');
    assert.equal(line.route, '/imgs/:id/orig');
    assert.equal(line.res?.statusCode, 404);
    assert.ok(typeof line.responseTime === 'number' && line.responseTime >= 0, JSON.stringify(line));
    const length = Number(res.headers.get('content-length'));
    assert.ok(line.bytes !== undefined && line.bytes > length && line.bytes < length + 1024, `${String(line.bytes)} bytes for a ${String(length)}-byte body and its headers`);
  });

  it('differs from one request to the next, and counts each answer\'s bytes on a kept-alive connection', async () => {
    const form = multipart(await photo(40, 30, 'png'), { filename: 'a.png', type: 'image/png' });
    const upload = await fetch(`${s.url()}/api/images`, { method: 'POST', body: form });
    const image = await upload.json() as { id: string };
    const thumb = await fetch(`${s.url()}/imgs/${image.id}/thumb`);
    const thumbBytes = (await thumb.arrayBuffer()).byteLength;
    const head = await fetch(`${s.url()}/imgs/${image.id}/thumb`, { method: 'HEAD' });
    const ids = [upload, thumb, head].map((res) => res.headers.get('x-request-id') ?? '');
    assert.equal(new Set(ids).size, 3, ids.join());
    const [, thumbId = '', headId = ''] = ids;
    const [thumbLine, headLine] = [await lineOf(s, thumbId), await lineOf(s, headId)];
    assert.equal(thumbLine.route, '/imgs/:id/thumb');
    assert.ok(thumbLine.bytes !== undefined && thumbLine.bytes > thumbBytes && thumbLine.bytes < thumbBytes + 1024, JSON.stringify(thumbLine));
    assert.ok(headLine.bytes !== undefined && headLine.bytes < 1024, `a HEAD answer sends headers only: ${JSON.stringify(headLine)}`);
  });

  it('replaces one an untrusted client sends', async () => {
    const res = await fetch(`${s.url()}/healthz`, { headers: { 'x-request-id': 'chosen-by-the-client' } });
    await res.arrayBuffer();
    const id = res.headers.get('x-request-id') ?? '';
    assert.match(id, /^[0-9a-f]{16}$/);
    assert.equal((await lineOf(s, id)).route, '/healthz');
  });

  it('is on the error pages, and on an answer of the router itself (a malformed URL)', async () => {
    const page = await fetch(`${s.url()}/no/such/page`, { headers: { accept: 'text/html' } });
    const pageId = page.headers.get('x-request-id') ?? '';
    assert.match(pageId, /^[0-9a-f]{16}$/);
    assert.ok((await page.text()).includes(`<code>${pageId}</code>`), 'the page shows the id');
    const routed = await fetch(`${s.url()}/d/nosuchimage/token`, { headers: { accept: 'text/html' } });
    assert.equal(routed.status, 404);
    assert.ok((await routed.text()).includes(`<code>${routed.headers.get('x-request-id') ?? 'none'}</code>`), 'so does a route\'s error page');
    const bad = await fetch(`${s.url()}/imgs/%ff%fe/orig`);
    const badBody = await bad.json() as { status: number; request_id: string };
    assert.equal(badBody.status, 400);
    assert.match(badBody.request_id, /^[0-9a-f]{16}$/);
    assert.equal(bad.headers.get('x-request-id'), badBody.request_id);
  });

  it('is given to an answer to bytes that are not HTTP, which no request was parsed from', async () => {
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(new URL(s.url()).port), '127.0.0.1');
      let text = '';
      socket.on('data', (chunk: Buffer) => { text += chunk.toString(); });
      socket.on('close', () => { resolve(text); });
      socket.on('error', reject);
      socket.write('NOT HTTP AT ALL\r\n\r\n');
    });
    const id = /^x-request-id: ([0-9a-f]{16})\r$/m.exec(answer)?.[1];
    assert.ok(id !== undefined, answer);
    assert.ok(answer.endsWith(`"request_id":"${id}"}`), answer);
    assert.ok(s.lines.some((line) => line.reqId === id && line.msg !== 'request completed'), 'the refusal is logged with it');
  });
});

describe('a request\'s id from a trusted proxy', () => {
  const s = loggedServer({ trusted_proxies: '127.0.0.1' });

  it('is kept when well formed', async () => {
    const sent = 'b5c8a0e1-3f4d-4c2a-9e7b-0a1b2c3d4e5f';
    const res = await fetch(`${s.url()}/imgs/nosuchimage/orig`, { headers: { 'x-request-id': sent } });
    const body = await res.json() as { request_id: string };
    assert.equal(res.headers.get('x-request-id'), sent);
    assert.equal(body.request_id, sent);
    assert.equal((await lineOf(s, sent)).res?.statusCode, 404);
  });

  it('is replaced when too long, or holding characters that could forge a log line or markup', async () => {
    for (const sent of ['x'.repeat(129), 'a b', 'id"}', '<script>', '']) {
      const res = await fetch(`${s.url()}/healthz`, { headers: { 'x-request-id': sent } });
      await res.arrayBuffer();
      assert.match(res.headers.get('x-request-id') ?? '', /^[0-9a-f]{16}$/, JSON.stringify(sent));
    }
  });
});
