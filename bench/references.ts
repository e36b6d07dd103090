// What imghost is measured against in the same run: the bare sharp pipeline (imghost's own
// thumbnail function, no HTTP, no storage), a Pillow thread pool like the original application's,
// the original application's whole upload path (Tornado and Pillow), and nginx serving the same
// files from disk. Pillow, Tornado and nginx are optional.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pLimit from 'p-limit';
import { defaults } from '../src/config/options.js';
import { decodeLimits } from '../src/images/probe.js';
import { makeRendition, squareSpec } from '../src/images/rendition.js';
import { eventually, exitOf, freePort } from '../test/helpers/process.js';
import { killedWithBench } from './imghost-process.js';
import { root } from '../test/helpers/cli.js';

const run = promisify(execFile);

/**
 * Thumbnails per second of imghost's pipeline on `files`, as many at once as the server makes,
 * and the CPU milliseconds each took (this process's, which does nothing else meanwhile).
 */
export async function bareSharp(files: readonly string[]): Promise<{ perSecond: number; cpuMs: number }> {
  const config = defaults();
  const spec = squareSpec(config.thumb_size, config.thumb_format);
  const limit = pLimit(config.thumb_concurrency);
  const began = performance.now();
  const cpu = process.cpuUsage();
  const limits = decodeLimits(config);
  await Promise.all(files.map((file) => limit(() => makeRendition(file, spec, limits))));
  const used = process.cpuUsage(cpu);
  return { perSecond: files.length / ((performance.now() - began) / 1000), cpuMs: (used.user + used.system) / 1000 / files.length };
}

/** Debian's python3-pil installs for Debian's python3, which may not be first on PATH. */
const pythons = ['/usr/bin/python3', 'python3'];

/** A Python that has `modules`, or null. */
async function pythonWith(modules: string): Promise<string | null> {
  for (const python of pythons) {
    try {
      await run(python, ['-c', `import ${modules}`]);
      return python;
    } catch {
      // try the next one
    }
  }
  return null;
}

/** Thumbnails per second of the Pillow pipeline on `files`, or null when Pillow is not installed. */
export async function pillowPerSecond(files: readonly string[]): Promise<number | null> {
  const python = await pythonWith('PIL');
  if (python === null) return null;
  const { stdout } = await run(python, [join(root, 'bench/pillow_pipeline.py'), ...files], { maxBuffer: 1 << 20 });
  return (JSON.parse(stdout) as { per_second: number }).per_second;
}

/** A reference server on loopback. */
export interface Reference { url: string; pid: number; stop(): Promise<void> }

/**
 * The original application's upload path (`bench/original_app.py`: Tornado, Pillow in a thread
 * pool, files) on a free loopback port, storing into `dataDir`; null without Tornado and Pillow.
 */
export async function startOriginal(dataDir: string): Promise<Reference | null> {
  const python = await pythonWith('tornado, PIL');
  if (python === null) return null;
  const port = await freePort();
  const child = spawn(python, [join(root, 'bench/original_app.py'), String(port), dataDir], { stdio: 'ignore' });
  return listeningReference(child, port, 'the original application', 'SIGTERM');
}

/** `child` once it answers on loopback `port`, stopped by `signal`; killed if it never answers. */
export async function listeningReference(child: ChildProcess, port: number, what: string, signal: NodeJS.Signals): Promise<Reference> {
  const forget = killedWithBench(child);
  const url = `http://127.0.0.1:${String(port)}`;
  const listening = async (): Promise<boolean> => {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${String(child.exitCode)}`);
    try {
      // Any answer means it listens; / itself may be a 403 or 404.
      await (await fetch(`${url}/`)).arrayBuffer();
      return true;
    } catch {
      return false;
    }
  };
  try {
    await eventually(`${what} to listen`, listening);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    url,
    pid: child.pid ?? 0,
    async stop() {
      forget();
      child.kill(signal);
      await exitOf(child);
    },
  };
}

const NGINX = '/usr/sbin/nginx';

/** How a host serving files to many clients sets nginx up, beyond Debian's defaults. */
export const STATIC_TUNING = 'tcp_nopush on; keepalive_requests 1000000; open_file_cache max=10000 inactive=60s;';

/**
 * Debian's nginx serving `rootDir` on a free loopback port with one worker per core, tuned as a
 * static file server would be; null when nginx is not installed.
 */
export async function startNginx(rootDir: string, workDir: string, mime: string): Promise<Reference | null> {
  if (!existsSync(NGINX)) return null;
  const dir = join(workDir, 'nginx');
  await mkdir(dir, { recursive: true });
  const port = await freePort();
  const conf = join(dir, 'nginx.conf');
  // Running as root, nginx would hand its workers to an unprivileged user that cannot enter our
  // private temporary directories.
  const user = process.getuid?.() === 0 ? 'user root;' : '';
  await writeFile(conf, `${user}
worker_processes ${String(availableParallelism())};
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  ${STATIC_TUNING}
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${String(port)};
    root ${rootDir};
    default_type ${mime};
  }
}
`);
  const child = spawn(NGINX, ['-c', conf, '-p', dir, '-e', join(dir, 'error.log')], { stdio: 'ignore' });
  // SIGQUIT: nginx's graceful stop.
  return listeningReference(child, port, 'nginx', 'SIGQUIT');
}
