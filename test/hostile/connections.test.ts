// Floods of connections: thousands of idle, half-sent requests from one address cannot use up the
// server's file descriptors or connection slots. Past --max_connections_per_ip (and
// --max_connections) a new connection is closed at once, while /healthz and uploads from other
// addresses are answered promptly; a process out of file descriptors answers 503 with
// Retry-After, never 500. Linux routes all of 127.0.0.0/8 to loopback, so 127.0.0.2 and up act as
// other clients.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { photo } from '../helpers/images.js';
import { eventually, freePort, serveCli, within } from '../helpers/process.js';
import { startTestServer, tempDir, type TestServer } from '../helpers/server.js';
import { exchange } from './raw-http.js';

interface Answer { status: number; headers: Record<string, string | string[] | undefined>; body: string; ms: number }

/** One request from `localAddress` on a fresh connection: its answer and how long it took. */
function ask(url: string, localAddress: string, method = 'GET', path = '/healthz', body?: Buffer): Promise<Answer> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method, localAddress, agent: false, headers: body ? { 'content-type': 'image/png' } : {} }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => { text += chunk.toString(); });
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, ms: Date.now() - started }); });
    });
    req.on('error', reject);
    req.end(body);
  });
}

interface Flood {
  sockets: Socket[];
  open(): number;
  /** Waits until the server has closed all but `expected`, then checks it closes no more. */
  holds(expected: number, what: string): Promise<void>;
  end(): void;
}

/**
 * A client is connected once the kernel queues its connection; the server closes the excess as it
 * takes them from that queue, which on a loaded machine takes a while.
 */
async function holds(open: () => number, expected: number, what: string): Promise<void> {
  await eventually(what, () => open() === expected);
  await sleep(300);
  assert.equal(open(), expected, `${what}: none closed late`);
}

/** `count` connections from `localAddress`, each sending half a request and then nothing. */
async function flood(url: string, count: number, localAddress: string): Promise<Flood> {
  const { port, hostname } = new URL(url);
  const sockets: Socket[] = [];
  let closed = 0;
  for (let i = 0; i < count; i++) {
    const socket = connect({ port: Number(port), host: hostname, localAddress });
    socket.on('connect', () => { socket.write('POST /api/images HTTP/1.1\r\nhost: localhost\r\ncontent-type: image/png\r\n'); });
    socket.on('error', () => undefined);
    socket.on('close', () => { closed++; });
    sockets.push(socket);
  }
  await Promise.all(sockets.map((socket) => Promise.race([once(socket, 'connect'), once(socket, 'close')])));
  const open = () => count - closed;
  return { sockets, open, holds: (expected, what) => holds(open, expected, what), end: () => { for (const socket of sockets) socket.destroy(); } };
}

describe('a flood of half-sent requests from one address', () => {
  const PER_ADDRESS = 50;
  let s: TestServer;
  let png: Buffer;
  before(async () => {
    s = await startTestServer({ max_connections_per_ip: PER_ADDRESS, max_connections: 300 });
    png = await photo(64, 48, 'png');
  });
  after(() => s.close());

  it('keeps at most max_connections_per_ip of 3000 open and goes on answering /healthz and uploads from other addresses', async () => {
    const attack = await flood(s.url, 3000, '127.0.0.1');
    try {
      await attack.holds(PER_ADDRESS, 'the server keeps exactly the allowed connections and closes the rest');
      const health = await within(ask(s.url, '127.0.0.2'), 2000, '/healthz during the flood');
      assert.equal(health.status, 200);
      const upload = await within(ask(s.url, '127.0.0.3', 'POST', '/api/images', png), 5000, 'an upload during the flood');
      assert.equal(upload.status, 201, upload.body);
      // The flooding address itself gets nothing more while it holds its allowance.
      await assert.rejects(ask(s.url, '127.0.0.1'), /ECONNRESET|socket hang up|EPIPE/);
    } finally {
      attack.end();
    }
  });

  it('lets the address connect again once its connections close', async () => {
    await sleep(200);
    assert.equal((await ask(s.url, '127.0.0.1')).status, 200);
  });

  it('closes a new connection at once past max_connections in all, whatever its address', async () => {
    const floods = await Promise.all(['127.0.0.4', '127.0.0.5', '127.0.0.6', '127.0.0.7', '127.0.0.8', '127.0.0.9'].map((address) => flood(s.url, PER_ADDRESS, address)));
    try {
      await holds(() => floods.reduce((sum, f) => sum + f.open(), 0), 300, 'the server keeps max_connections in all');
      await assert.rejects(ask(s.url, '127.0.0.10'), /ECONNRESET|socket hang up|EPIPE/);
    } finally {
      for (const f of floods) f.end();
    }
    await sleep(200);
    assert.equal((await ask(s.url, '127.0.0.10')).status, 200);
  });
});

describe('connection timeouts and trusted proxies', () => {
  it('answers 408 to a connection that sends no headers within headers_timeout, and closes it', async () => {
    const s = await startTestServer({ headers_timeout: 1 });
    try {
      const answer = await exchange(s.url, '', { limitMs: 5000 });
      assert.equal(answer.status, 408);
      assert.ok(answer.closedAfterMs !== null && answer.closedAfterMs < 3000, String(answer.closedAfterMs));
    } finally {
      await s.close();
    }
  });

  it('closes a keep-alive connection left idle for keepalive_timeout after its answer', async () => {
    const s = await startTestServer({ keepalive_timeout: 1 });
    try {
      const answer = await exchange(s.url, 'GET /healthz HTTP/1.1\r\nhost: localhost\r\n\r\n', { limitMs: 5000 });
      assert.equal(answer.status, 200);
      assert.equal(answer.headers.connection, 'keep-alive');
      assert.ok(answer.closedAfterMs !== null && answer.closedAfterMs >= 900 && answer.closedAfterMs < 3000, String(answer.closedAfterMs));
    } finally {
      await s.close();
    }
  });

  it('does not cap the connections of a trusted proxy, which carries many clients', async () => {
    const s = await startTestServer({ max_connections_per_ip: 5, trusted_proxies: '127.0.0.1' });
    try {
      const proxied = await flood(s.url, 40, '127.0.0.1');
      await proxied.holds(40, 'every connection of the proxy is kept');
      proxied.end();
      const other = await flood(s.url, 40, '127.0.0.2');
      await other.holds(5, 'another address is capped');
      other.end();
    } finally {
      await s.close();
    }
  });
});

describe('a process out of file descriptors', () => {
  it('answers an upload 503 with Retry-After (not 500), and takes uploads again once descriptors are free', async (t) => {
    const port = await freePort();
    const dataDir = await tempDir();
    const server = await serveCli(t, port, [`--port=${String(port)}`, `--data_dir=${dataDir}`, '--max_connections=5000', '--max_connections_per_ip=0', '--logging=warning']);
    const png = await photo(64, 48, 'png');
    const pid = server.child.pid ?? 0;
    // A connection opened first, to send the upload on once the descriptors are gone.
    const kept = connect({ port, host: '127.0.0.1' });
    await once(kept, 'connect');
    await sleep(100);
    execFileSync('prlimit', ['--pid', String(pid), '--nofile=128:128']);
    const attack = await flood(server.url, 300, '127.0.0.1');
    // Time for the server to take the flood from the kernel's queue and run out of descriptors.
    await sleep(300);
    try {
      let text = '';
      kept.on('data', (chunk: Buffer) => { text += chunk.toString(); });
      kept.write(`POST /api/images HTTP/1.1\r\nhost: localhost\r\ncontent-type: image/png\r\ncontent-length: ${String(png.length)}\r\n\r\n`);
      kept.write(png);
      await eventually('the answer to the upload', () => /\r\n\r\n\{.*\}$/s.test(text));
      assert.match(text, /^HTTP\/1\.1 503 /, text);
      assert.match(text, /\r\nretry-after: \d+\r\n/i);
      assert.match(text, /"status":503,"error":"EMFILE"/);
    } finally {
      attack.end();
      kept.destroy();
    }
    await sleep(300);
    assert.equal((await ask(server.url, '127.0.0.2', 'POST', '/api/images', png)).status, 201);
  });
});
