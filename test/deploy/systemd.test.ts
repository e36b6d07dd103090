// deploy/systemd: the unit passes `systemd-analyze verify` (Debian's systemd package) with no
// warning, its user file makes the user it runs as, and its commands work as systemd runs them:
// the readiness probe waits for the server and succeeds once it is ready, the start command's
// options are imghost's, and SIGTERM stops the server cleanly within the unit's stop timeout.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { defaults } from '../../src/config/options.js';
import { root, spawnCli } from '../helpers/cli.js';
import { captureOutput, exitOf, freePort, within } from '../helpers/process.js';
import { tempDir } from '../helpers/server.js';

const run = promisify(execFile);
const UNIT = join(root, 'deploy/systemd/imghost.service');
const SYSUSERS = join(root, 'deploy/systemd/imghost.sysusers.conf');

/** The unit's `Key=value` settings, in order (a key may repeat). */
function settings(unit: string): [string, string][] {
  return unit.split('\n').filter((line) => /^[A-Z]\w*=/.test(line)).map((line) => {
    const at = line.indexOf('=');
    return [line.slice(0, at), line.slice(at + 1)];
  });
}

function setting(unit: string, key: string): string {
  const found = settings(unit).find(([name]) => name === key);
  assert.ok(found, `${key}= is set`);
  return found[1];
}

/** `systemd-analyze verify` of `unit` written as `dir/imghost.service`: its exit code and everything it printed. */
async function verify(dir: string, unit: string): Promise<{ code: number; output: string }> {
  const path = join(dir, 'imghost.service');
  await writeFile(path, unit);
  try {
    const { stdout, stderr } = await run('systemd-analyze', ['verify', path]);
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const { code, stdout, stderr } = err as { code: number; stdout: string; stderr: string };
    return { code, output: stdout + stderr };
  }
}

describe('the systemd unit', () => {
  let dir: string;
  let unit: string;
  before(async () => {
    dir = await tempDir('imghost-systemd-');
    unit = await readFile(UNIT, 'utf8');
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('passes systemd-analyze verify with no warning, run from this checkout with this Node', async () => {
    // verify checks that each command's program exists: the unit points at /opt/imghost, so the
    // copy checked points at this checkout and the Node running the tests instead.
    const here = unit.replaceAll('/usr/bin/node', process.execPath).replaceAll('/opt/imghost', root.replace(/\/$/, ''));
    assert.deepEqual(await verify(dir, here), { code: 0, output: '' });
    const misspelt = await verify(dir, here.replace('ProtectHome=yes', 'ProtectHomme=yes'));
    assert.match(misspelt.output, /Unknown key 'ProtectHomme'/, 'verify does report a wrong setting');
  });

  it('runs sandboxed as its own user, with the data in its state directory, and a memory limit', () => {
    assert.equal(setting(unit, 'User'), 'imghost');
    assert.equal(setting(unit, 'StateDirectory'), 'imghost');
    assert.match(setting(unit, 'ExecStart'), / serve --data_dir=\/var\/lib\/imghost$/);
    assert.equal(setting(unit, 'ReadWritePaths'), '/var/lib/imghost');
    for (const [key, value] of [['ProtectSystem', 'strict'], ['NoNewPrivileges', 'yes'], ['PrivateTmp', 'yes'], ['ProtectHome', 'yes'], ['Restart', 'on-failure']]) {
      assert.equal(setting(unit, key ?? ''), value, key);
    }
    assert.match(setting(unit, 'MemoryMax'), /^\d+M$/);
  });

  it('gives the server longer to stop than it takes to finish in-flight requests', () => {
    assert.equal(setting(unit, 'KillSignal'), 'SIGTERM');
    assert.ok(Number(setting(unit, 'TimeoutStopSec')) >= defaults().shutdown_timeout + 10);
  });

  it('comes with a sysusers file that makes its user and group', async () => {
    const sysroot = join(dir, 'root');
    await mkdir(join(sysroot, 'etc'), { recursive: true });
    const child = spawn('systemd-sysusers', [`--root=${sysroot}`, '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
    child.stdin.end(await readFile(SYSUSERS));
    assert.deepEqual(await exitOf(child), { code: 0, signal: null });
    assert.match(await readFile(join(sysroot, 'etc/passwd'), 'utf8'), /^imghost:x:\d+:\d+:[^:]*:\/var\/lib\/imghost:\/usr\/sbin\/nologin$/m);
    assert.match(await readFile(join(sysroot, 'etc/group'), 'utf8'), /^imghost:x:\d+:/m);
  });

  it('is ready when its probe says so, and stops cleanly on its stop signal', async (t) => {
    const port = await freePort();
    const env = Object.fromEntries(setting(unit, 'Environment').split(' ').map((pair) => pair.split('=') as [string, string]));
    env.IMGHOST_PORT = String(port);
    // The probe starts with the server, as ExecStartPost does, and must wait for it.
    const [curl = '', ...probeArgs] = setting(unit, 'ExecStartPost').replace('${IMGHOST_PORT}', String(port)).split(' ');
    const probe = spawn(curl, probeArgs, { stdio: 'ignore' });
    const args = setting(unit, 'ExecStart').split(' ').slice(2).map((arg) => arg.replace('/var/lib/imghost', join(dir, 'data')));
    const server = spawnCli(args, env);
    t.after(() => { if (server.exitCode === null && server.signalCode === null) server.kill('SIGKILL'); });
    const output = captureOutput(server);
    assert.deepEqual(await within(exitOf(probe), 20_000, 'the probe to succeed'), { code: 0, signal: null }, output.stderr());
    assert.equal((await fetch(`http://127.0.0.1:${String(port)}/readyz`)).status, 200);
    server.kill(setting(unit, 'KillSignal') as NodeJS.Signals);
    const stopped = await within(exitOf(server), Number(setting(unit, 'TimeoutStopSec')) * 1000, 'the server to stop');
    assert.deepEqual(stopped, { code: 0, signal: null }, output.stderr());
  });
});
