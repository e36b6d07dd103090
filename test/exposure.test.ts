// An open upload service is announced at start-up: a server listening beyond loopback, taking
// anonymous uploads and listing them, logs one warning that names the options that close it.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { isLoopback, openServiceWarning } from '../src/exposure.js';
import { freePort, serveCli, stopCli } from './helpers/process.js';
import { tempDir } from './helpers/server.js';

const open = { address: '0.0.0.0', upload_token: '', uploads: 'anonymous', public_listing: true } as const;

describe('isLoopback', () => {
  it('is true for addresses only this machine reaches', () => {
    for (const address of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', 'LOCALHOST', '::ffff:127.0.0.1']) assert.ok(isLoopback(address), address);
  });

  it('is false for every interface, a LAN address or a host name', () => {
    for (const address of ['0.0.0.0', '::', '192.168.1.10', '10.0.0.1', 'fe80::1', 'img.example.com', '128.0.0.1']) assert.ok(!isLoopback(address), address);
  });
});

describe('openServiceWarning', () => {
  it('warns beyond loopback with anonymous uploads and a public listing, naming what closes it', () => {
    const warning = openServiceWarning(open) ?? '';
    assert.match(warning, /anyone who can reach this server on 0\.0\.0\.0 can upload images and see the list of uploads/);
    for (const option of ['--upload_token', '--uploads=users', '--public_listing=false', '--address=127.0.0.1']) assert.ok(warning.includes(option), option);
  });

  it('is quiet on loopback, with an upload token, with uploads for users only, or without a listing', () => {
    assert.equal(openServiceWarning({ ...open, address: '127.0.0.1' }), null);
    assert.equal(openServiceWarning({ ...open, upload_token: 'secret' }), null);
    assert.equal(openServiceWarning({ ...open, uploads: 'users' }), null);
    assert.equal(openServiceWarning({ ...open, public_listing: false }), null);
  });
});

describe('imghost serve at start-up', { concurrency: true }, () => {
  let dir: string;
  before(async () => { dir = await tempDir('imghost-exposure-'); });
  after(() => rm(dir, { recursive: true, force: true }));

  /** The warning lines (JSON, level 40) `imghost serve ARGS` logs by the time it is ready. */
  async function warnings(t: TestContext, name: string, args: string[]): Promise<{ msg: string; address?: string }[]> {
    const port = await freePort();
    const server = await serveCli(t, port, [`--port=${String(port)}`, `--data_dir=${join(dir, name)}`, ...args]);
    await stopCli(server);
    return server.output.stderr().split('\n').filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { level: number; msg: string; address?: string })
      .filter((entry) => entry.level === 40);
  }

  it('logs one warning when it listens on every interface, open to anonymous uploads and listing them', async (t) => {
    const found = (await warnings(t, 'open', ['--address=0.0.0.0'])).filter((w) => w.msg.startsWith('anyone who can reach'));
    const [warning, ...more] = found;
    assert.ok(warning);
    assert.equal(more.length, 0, 'one line');
    assert.equal(warning.address, '0.0.0.0');
    assert.match(warning.msg, /--upload_token .* --public_listing=false .* --address=127\.0\.0\.1 behind a reverse proxy/);
  });

  it('logs none on loopback', async (t) => {
    assert.deepEqual((await warnings(t, 'loopback', [])).filter((w) => w.msg.startsWith('anyone')), []);
  });

  it('logs none when uploads need a token', async (t) => {
    assert.deepEqual((await warnings(t, 'token', ['--address=0.0.0.0', '--upload_token=s3cret-token'])).filter((w) => w.msg.startsWith('anyone')), []);
  });
});
