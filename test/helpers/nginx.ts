// Debian's nginx running deploy/nginx/imghost.conf, the documented configuration, in front of a
// test server. Only the installation's values are replaced (addresses, directories) and, when a
// test asks, how long nginx keeps an image, so that what is tested is the file users copy.
import { spawn } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { root } from './cli.js';
import { eventually, exitOf } from './process.js';

export const NGINX = '/usr/sbin/nginx';
export const CONF = join(root, 'deploy/nginx/imghost.conf');

export interface Nginx { url: string; pid: number; close(): Promise<void> }

/** Replaces `from` by `to` in `text`, which must hold it exactly once. */
function substitute(text: string, from: string, to: string): string {
  const parts = text.split(from);
  if (parts.length !== 2) throw new Error(`${CONF} should hold '${from}' once, not ${String(parts.length - 1)} times`);
  return parts.join(to);
}

/**
 * Starts nginx on `port` with the documented configuration, proxying to `upstream` (host:port),
 * sending blobs from `blobDir`, keeping images `imageValidity` (an nginx time, e.g. '2s'), with
 * `workers` processes (1 unless given) and `tuning` (directives for its http block) as a host
 * serving many clients would set them.
 */
export async function startNginx(opts: {
  port: number; upstream: string; blobDir: string; workDir: string; imageValidity?: string; workers?: number; tuning?: string;
}): Promise<Nginx> {
  const dir = opts.workDir;
  await mkdir(dir, { recursive: true });
  let site = await readFile(CONF, 'utf8');
  site = substitute(site, 'server 127.0.0.1:8000;', `server ${opts.upstream};`);
  site = substitute(site, 'listen 80;', `listen 127.0.0.1:${String(opts.port)};`);
  site = substitute(site, 'proxy_cache_path /var/cache/nginx/imghost ', `proxy_cache_path ${join(dir, 'cache')} `);
  site = substitute(site, 'alias /var/lib/imghost/blobs/;', `alias ${opts.blobDir}/;`);
  if (opts.imageValidity !== undefined) site = substitute(site, 'proxy_cache_valid 200 206 10m;', `proxy_cache_valid 200 206 ${opts.imageValidity};`);
  await writeFile(join(dir, 'imghost.conf'), site);
  // What Debian's /etc/nginx/nginx.conf gives the file, with everything written kept in `dir`.
  // Running as root, nginx would hand its worker to an unprivileged user that cannot enter it.
  await writeFile(join(dir, 'nginx.conf'), `${process.getuid?.() === 0 ? 'user root;' : ''}
worker_processes ${String(opts.workers ?? 1)};
events { worker_connections 1024; }
http {
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  sendfile on;
  access_log off;
  ${opts.tuning ?? ''}
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  include ${dir}/imghost.conf;
}
`);
  const log = join(dir, 'error.log');
  const child = spawn(NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', log, '-g', `daemon off; pid ${dir}/nginx.pid;`], { stdio: 'ignore' });
  const exited = exitOf(child);
  const url = `http://127.0.0.1:${String(opts.port)}`;
  await eventually('nginx to listen', async () => {
    if (child.exitCode !== null) throw new Error(`nginx exited: ${await readFile(log, 'utf8').catch(() => '')}`);
    return fetch(`${url}/healthz`).then(async (res) => { await res.arrayBuffer(); return true; }, () => false);
  });
  return {
    url,
    pid: child.pid ?? 0,
    async close() {
      child.kill('SIGQUIT');
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
