// The one way tests start imghost: the real server on an ephemeral loopback port, with real
// SQLite, real files and real sharp, on a temporary data directory removed afterwards.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { defaults, type Config } from '../../src/config/options.js';
import { createLogger } from '../../src/log.js';
import { startServer, type RunningServer } from '../../src/start-server.js';

export interface TestServer {
  url: string;
  dataDir: string;
  config: Config;
  server: RunningServer;
  /** fetch a path of the server, or a link it wrote (see `path`). */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** The site path of a link the server wrote: absolute on --public_url, or on any address (the site's nodes share paths); a path is kept. */
  path(link: string): string;
  /** POST /api/images with one multipart `file` part. */
  upload(data: Buffer, options?: UploadOptions): Promise<Response>;
  /** Uploads and returns the 201 JSON; fails the test on any other status. */
  uploadOk(data: Buffer, options?: UploadOptions): Promise<UploadedImage>;
  close(): Promise<void>;
}

export interface UploadOptions { filename?: string; type?: string; field?: string; headers?: Record<string, string> }

export interface UploadedImage {
  id: string; url: string; thumb_url: string; page_url: string; variants: Record<string, string>; name: string | null;
  width: number; height: number; format: string; mime: string; bytes: number; sha256: string;
  created_at: string; delete_token: string;
  thumb: { width: number; height: number; bytes: number; mime: string };
}

/**
 * The site path of a link a server wrote: absolute on its --public_url (`publicUrl`), or on any
 * address (a restarted server's, another node's: they share paths); a path is kept.
 */
export function sitePath(link: string, publicUrl = ''): string {
  const base = publicUrl.replace(/\/+$/, '');
  if (base !== '' && link.startsWith(`${base}/`)) return link.slice(base.length);
  return link.slice(/^https?:\/\/[^/]+/.exec(link)?.[0].length ?? 0);
}

export async function tempDir(prefix = 'imghost-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export function multipart(data: Buffer, { filename = 'image.bin', type = 'application/octet-stream', field = 'file' }: UploadOptions = {}): FormData {
  const form = new FormData();
  form.append(field, new Blob([new Uint8Array(data)], { type }), filename);
  return form;
}

export async function startTestServer(overrides: Partial<Config> = {}): Promise<TestServer> {
  const dataDir = overrides.data_dir ?? await tempDir();
  // Thumbnails in-process unless a test asks for the child process (the default of `imghost`, which
  // the tests that start the real command, the hostile-input suites and thumbnailer.test.ts use):
  // a child per test server would cost each file a second of start-up.
  const config: Config = { ...defaults(), port: 0, address: '127.0.0.1', logging: 'none', data_dir: dataDir, thumb_nice: 0, ...overrides };
  const server = await startServer(config, createLogger(config));
  const path = (link: string) => sitePath(link, config.public_url);
  const fetchPath = (link: string, init?: RequestInit) => fetch(`${server.url}${path(link)}`, init);
  const upload = (data: Buffer, options: UploadOptions = {}) =>
    fetchPath('/api/images', { method: 'POST', body: multipart(data, options), headers: options.headers });
  let closed = false;
  return {
    url: server.url,
    dataDir,
    config,
    server,
    fetch: fetchPath,
    path,
    upload,
    async uploadOk(data, options) {
      const res = await upload(data, options);
      const body = await res.text();
      if (res.status !== 201) throw new Error(`upload answered ${String(res.status)}: ${body}`);
      return JSON.parse(body) as UploadedImage;
    },
    async close() {
      if (closed) return;
      closed = true;
      await server.close();
      if (overrides.data_dir === undefined) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Runs `body`'s tests against one server started with `overrides` for the enclosing suite. */
export function withServer(overrides: Partial<Config>, body: (server: () => TestServer) => void): void {
  let s: TestServer;
  before(async () => { s = await startTestServer(overrides); });
  after(() => s.close());
  body(() => s);
}
