// Log lines on stderr: readable for a person at a terminal, JSON lines in pipes and files, which
// log collectors parse. The terminal is a real pseudo-terminal, made by util-linux's `script`.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { stderrFormat } from '../src/log.js';
import { root } from './helpers/cli.js';
import { captureOutput, eventually, exitOf, freePort, serveCli, stopCli, within } from './helpers/process.js';
import { tempDir } from './helpers/server.js';

const quote = (arg: string): string => `'${arg.replaceAll("'", "'\\''")}'`;

describe('the format of log lines on stderr', () => {
  it('is readable on a terminal and JSON elsewhere, unless --debug asks for readable lines', () => {
    assert.equal(stderrFormat(false, true), 'readable');
    assert.equal(stderrFormat(false, false), 'json');
    assert.equal(stderrFormat(true, false), 'readable');
    assert.equal(stderrFormat(true, true), 'readable');
  });
});

describe('imghost serve logs', () => {
  let dir: string;
  before(async () => { dir = await tempDir('imghost-log-'); });
  after(() => rm(dir, { recursive: true, force: true }));

  /** Runs the server on a pseudo-terminal until it has logged a request; returns what the terminal showed. */
  async function onTerminal(t: TestContext): Promise<string> {
    const port = await freePort();
    const command = [process.execPath, '--import', 'tsx', join(root, 'src/cli/main.ts'), 'serve', '--address=127.0.0.1',
      `--port=${String(port)}`, `--data_dir=${join(dir, 'tty')}`].map(quote).join(' ');
    // `exec` so that the server, not a shell waiting for it, is what the interrupt stops: shells differ
    // in the status they exit with after an interrupt (dash 130, bash the child's).
    const child = spawn('script', ['--quiet', '--flush', '--return', '--command', `exec ${command}`, '/dev/null'],
      { cwd: root, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, SHELL: '/bin/sh' } });
    const output = captureOutput(child);
    t.after(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exitOf(child);
    });
    await eventually('the server to be ready', () => output.stdout().includes('imghost is ready'), 15_000);
    const res = await fetch(`http://127.0.0.1:${String(port)}/healthz`);
    await res.arrayBuffer();
    await eventually('the request to be logged', () => output.stdout().includes('request completed'));
    // The terminal's interrupt key: the server gets SIGINT and shuts down gracefully.
    child.stdin.write('\x03');
    const exit = await within(exitOf(child), 15_000, 'the server to stop');
    assert.deepEqual(exit, { code: 0, signal: null }, output.stdout());
    return output.stdout();
  }

  it('are readable lines with the time and the level on a terminal', async (t) => {
    const shown = await onTerminal(t);
    // eslint-disable-next-line no-control-regex -- colours are part of what a terminal shows
    const plain = shown.replace(/\x1b\[[0-9;]*m/g, '').replaceAll('\r', '');
    assert.match(plain, /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: imghost is ready \{"url":"http:\/\/127\.0\.0\.1:\d+"/m);
    assert.match(plain, /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: request completed \{"reqId":"[0-9a-f]{16}","res":\{"statusCode":200\}/m);
    assert.match(plain, /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: stopped$/m);
    assert.doesNotMatch(plain, /^\{"level":/m, 'no JSON line');
    assert.ok(shown.includes('\x1b[32mINFO'), 'the level is coloured');
  });

  it('are JSON lines when stderr is a pipe', async (t) => {
    const port = await freePort();
    const server = await serveCli(t, port, [`--port=${String(port)}`, `--data_dir=${join(dir, 'pipe')}`]);
    await (await fetch(`${server.url}/healthz`)).arrayBuffer();
    await stopCli(server);
    const lines = server.output.stderr().trimEnd().split('\n').map((line) => JSON.parse(line) as { level: number; msg: string; req?: { url: string }; res?: { statusCode: number } });
    // One line per request, once answered, naming the request and its answer.
    assert.ok(!lines.some((line) => line.msg === 'incoming request'), server.output.stderr());
    const healthz = lines.filter((line) => line.req?.url === '/healthz');
    assert.deepEqual(healthz.map(({ level, msg, res }) => ({ level, msg, status: res?.statusCode })),
      [{ level: 30, msg: 'request completed', status: 200 }], server.output.stderr());
  });
});
