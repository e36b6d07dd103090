// The bare Node ceiling for serving: `node:http` with as many cluster workers as imghost has,
// answering the same paths with the same bytes and the same headers imghost sent for them, from
// memory, with nothing else: no router, no hooks, no lookup, no log. What imghost spends beyond
// it is its own work. Run as a script it is the server (`node --import tsx bench/bare-node.ts
// <manifest> <port> <workers>`); imported, startBareNode copies what imghost answers and starts it.
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createServer, type OutgoingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from '../test/helpers/process.js';
import { listeningReference, type Reference } from './references.js';

/** One answer: the path asked, imghost's headers for it, its body (base64 in the manifest). */
interface Answer { path: string; headers: Record<string, string>; body: string }

/** Headers Node's http server writes itself, per connection or per answer. */
const NODE_OWN = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding']);

/** imghost's keep-alive, so both keep connections alike. */
const KEEPALIVE_MS = 72_000;

/**
 * Copies imghost's answers to GETs of `paths` on `url` (status 200 each) and starts the bare
 * server answering them with `workers` processes on a free loopback port.
 */
export async function startBareNode(url: string, paths: readonly string[], workers: number, workDir: string): Promise<Reference> {
  const answers: Answer[] = await Promise.all(paths.map(async (path) => {
    const res = await fetch(`${url}${path}`);
    const body = Buffer.from(await res.arrayBuffer());
    if (res.status !== 200) throw new Error(`GET ${path} answered ${String(res.status)}`);
    const headers = Object.fromEntries([...res.headers].filter(([name]) => !NODE_OWN.has(name)));
    return { path, headers, body: body.toString('base64') };
  }));
  const manifest = join(workDir, `bare-node-${String(process.pid)}-${String(Date.now())}.json`);
  await writeFile(manifest, JSON.stringify(answers));
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), manifest, String(port), String(workers)],
    { stdio: 'ignore' });
  return listeningReference(child, port, 'the bare Node server', 'SIGTERM');
}

function serve(manifest: string, port: number): void {
  const answers = new Map<string, { headers: OutgoingHttpHeaders; body: Buffer }>();
  for (const { path, headers, body } of JSON.parse(readFileSync(manifest, 'utf8')) as Answer[]) {
    answers.set(path, { headers, body: Buffer.from(body, 'base64') });
  }
  const server = createServer({ keepAliveTimeout: KEEPALIVE_MS }, (req, res) => {
    const answer = answers.get(req.url ?? '');
    if (answer === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, answer.headers).end(answer.body);
  });
  server.listen(port, '127.0.0.1');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [manifest = '', port = '0', workers = '1'] = process.argv.slice(2);
  if (Number(workers) > 1 && cluster.isPrimary) {
    // Stopped (SIGTERM), the primary takes its workers with it; a worker just dies of the signal.
    const forked = Array.from({ length: Number(workers) }, () => cluster.fork());
    process.once('SIGTERM', () => {
      for (const worker of forked) worker.process.kill('SIGKILL');
      process.exit(0);
    });
  } else {
    serve(manifest, Number(port));
  }
}
