// A real S3 server for tests: Ceph's RADOS Gateway, which checks SigV4 signatures and speaks
// ranged GETs and multipart uploads as AWS does. Debian's radosgw has no standalone backend, so
// it runs on a throwaway one-node cluster, with no manager (Debian packages radosgw, ceph-mon,
// ceph-osd and ceph-common; scripts/test-deps.sh installs them):
//   - one keyring holds every key (mon., client.admin, osd.0, client.rgw.a); `ceph-mon --mkfs`
//     imports it, which spares slow `ceph auth add` calls (each a Python CLI) once it runs;
//   - 1 monitor (msgr2 only) on a free loopback port; `ceph osd new` registers the OSD. Its
//     Paxos batches changes for 1 s by default, and radosgw's first start makes one after another
//     (pools, users): a 50 ms interval brings the start from ~12 s to ~3 s;
//   - 1 OSD on `memstore` (RAM only, pools of size 1);
//   - radosgw (beast) on another free loopback port, started without waiting for the OSD: it
//     creates its pools once the OSD is up, and answering HTTP means it is ready;
//   - `radosgw-admin user create` makes the S3 user with fixed keys.
// Everything lives in a fresh temporary directory, so parallel test files never collide.
// Daemons run in the foreground as our children (Ctrl-C reaches them), are SIGKILLed by stop(),
// by an exit handler if the process ends without stop(), and by a watchdog shell if it is killed.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import type { Config } from '../../src/config/options.js';
import { eventually, exitOf, freePort } from './process.js';

const run = promisify(execFile);

export interface S3Server {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  createBucket(name: string): Promise<void>;
  stop(): Promise<void>;
}

/** The options that point imghost at `s3`. */
export const s3Options = (s3: S3Server): Pick<Config, 's3_endpoint' | 's3_region' | 's3_force_path_style'
  | 's3_access_key_id' | 's3_secret_access_key'> => ({
  s3_endpoint: s3.endpoint,
  s3_region: s3.region,
  s3_force_path_style: true,
  s3_access_key_id: s3.accessKeyId,
  s3_secret_access_key: s3.secretAccessKey,
});

/** A client of the test's own, to see and change what the store keeps behind its back. */
export const s3Client = (s3: S3Server): S3Client => new S3Client({ endpoint: s3.endpoint, region: s3.region,
  forcePathStyle: true, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } });

const credentials = { accessKeyId: 'imghosttestaccesskey', secretAccessKey: 'imghosttestsecretkey0123456789' };
const region = 'us-east-1';

function config(dir: string, fsid: string, monPort: number, rgwPort: number): string {
  return `[global]
fsid = ${fsid}
mon host = v2:127.0.0.1:${monPort}/0
public network = 127.0.0.0/8
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
keyring = ${dir}/keyring
run dir = ${dir}/run
admin socket = ${dir}/run/$name.asok
log file = ${dir}/log/$name.log
pid file = ${dir}/run/$name.pid
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon allow pool size one = true
mon warn on pool no redundancy = false
mon max pg per osd = 1000
osd crush chooseleaf type = 0
ms bind msgr1 = false
paxos propose interval = 0.05
paxos min wait = 0.01
[mon.a]
mon data = ${dir}/mon
[osd.0]
osd data = ${dir}/osd
osd objectstore = memstore
memstore device bytes = 1073741824
[client.rgw.a]
rgw frontends = beast endpoint=127.0.0.1:${rgwPort}
rgw data = ${dir}/rgw
`;
}

export async function startS3(): Promise<S3Server> {
  const dir = await mkdtemp(join(tmpdir(), 'imghost-ceph-'));
  const daemons: ChildProcess[] = [];
  // Reads the daemons' pids from its stdin and, when that closes (we died), kills them and
  // removes the directory.
  const watchdog = spawn('sh', ['-c', 'while read pid; do pids="$pids $pid"; done; kill -9 $pids; sleep 1; rm -rf "$0"', dir],
    { stdio: ['pipe', 'ignore', 'ignore'] });
  watchdog.unref();
  const killAll = (): void => {
    for (const daemon of daemons) daemon.kill('SIGKILL');
    watchdog.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', killAll);
  let stopped: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      process.removeListener('exit', killAll);
      for (const daemon of daemons) { daemon.ref(); daemon.kill('SIGKILL'); }
      await Promise.all(daemons.map(exitOf));
      watchdog.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    })();
    return stopped;
  };

  const c = ['-c', join(dir, 'ceph.conf')];
  const daemon = (command: string, args: string[]): ChildProcess => {
    const child = spawn(command, ['-f', ...c, ...args], { stdio: 'ignore' });
    daemons.push(child);
    // The pid is known at once; only a missing binary would leave it undefined.
    if (child.pid !== undefined) watchdog.stdin.write(`${String(child.pid)}\n`);
    child.unref();
    return child;
  };

  try {
    const [monPort, rgwPort] = [await freePort(), await freePort()];
    const endpoint = `http://127.0.0.1:${String(rgwPort)}`;
    const fsid = randomUUID();
    for (const sub of ['mon', 'osd', 'run', 'log', 'rgw']) await mkdir(join(dir, sub));
    await writeFile(join(dir, 'ceph.conf'), config(dir, fsid, monPort, rgwPort));
    const keyring = join(dir, 'keyring');
    const keys: [string, ...string[]][] = [
      ['mon.', '--cap', 'mon', 'allow *'],
      ['client.admin', '--cap', 'mon', 'allow *', '--cap', 'osd', 'allow *', '--cap', 'mgr', 'allow *'],
      ['osd.0', '--cap', 'mon', 'allow profile osd', '--cap', 'osd', 'allow *', '--cap', 'mgr', 'allow profile osd'],
      ['client.rgw.a', '--cap', 'mon', 'allow rw', '--cap', 'osd', 'allow rwx', '--cap', 'mgr', 'allow rw'],
    ];
    for (const [i, [name, ...caps]] of keys.entries()) {
      await run('ceph-authtool', [...(i === 0 ? ['--create-keyring'] : []), keyring, '--gen-key', '-n', name, ...caps]);
    }
    const monmap = join(dir, 'monmap');
    await run('monmaptool', ['--create', '--addv', 'a', `[v2:127.0.0.1:${String(monPort)}/0]`, '--fsid', fsid, monmap]);
    await run('ceph-mon', [...c, '-i', 'a', '--mkfs', '--monmap', monmap, '--keyring', keyring]);
    daemon('ceph-mon', ['-i', 'a']);
    const osdUuid = randomUUID();
    await run('ceph', [...c, '--connect-timeout', '30', 'osd', 'new', osdUuid]);
    await run('ceph-osd', [...c, '-i', '0', '--mkfs', '--osd-uuid', osdUuid, '--no-mon-config']);
    daemon('ceph-osd', ['-i', '0']);
    daemon('radosgw', ['-n', 'client.rgw.a']);
    // The limit only keeps a broken install from hanging the suite; start-up takes seconds.
    await eventually('radosgw to answer HTTP', async () => {
      const dead = daemons.find((d) => d.exitCode !== null || d.signalCode !== null);
      if (dead) throw new Error(`${dead.spawnfile} exited (${String(dead.exitCode ?? dead.signalCode)}) during start-up`);
      return fetch(endpoint).then(async (res) => { await res.arrayBuffer(); return true; }, () => false);
    }, 60_000);
    await run('radosgw-admin', [...c, '-n', 'client.admin', 'user', 'create', '--uid=imghost-test', '--display-name=imghost test',
      `--access-key=${credentials.accessKeyId}`, `--secret=${credentials.secretAccessKey}`]);
    return {
      endpoint,
      region,
      ...credentials,
      async createBucket(name) {
        const client = new S3Client({ endpoint, region, forcePathStyle: true, credentials });
        try {
          await client.send(new CreateBucketCommand({ Bucket: name }));
        } finally {
          client.destroy();
        }
      },
      stop,
    };
  } catch (err) {
    const logs = await Promise.all(['mon.a', 'osd.0', 'client.rgw.a'].map(async (name) => {
      const text = await readFile(join(dir, 'log', `${name}.log`), 'utf8').catch(() => '');
      return `--- ${name}.log (end)\n${text.split('\n').slice(-15).join('\n')}`;
    }));
    await stop();
    throw new Error(`cannot start Ceph RGW in ${dir}: ${(err as Error).message}\n${logs.join('\n')}`, { cause: err });
  }
}
