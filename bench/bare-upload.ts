// The bare Node floor for receiving an upload: `node:http` and the multipart parser imghost uses
// (@fastify/busboy), the file part written to a file, fsynced and renamed into place, a small
// JSON answer; no framework, no hash, no stripping, no probe, no database, no thumbnail. What an
// upload costs any Node server that takes a form post durably. Run as a script it is the server
// (`node --import tsx bench/bare-upload.ts <dir> <port>`); imported, startBareUpload starts it.
import { Busboy } from '@fastify/busboy';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { freePort } from '../test/helpers/process.js';
import { listeningReference, type Reference } from './references.js';

export async function startBareUpload(dir: string): Promise<Reference> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), dir, String(port)], { stdio: 'ignore' });
  return listeningReference(child, port, 'the bare Node upload server', 'SIGTERM');
}

/** Writes one file part durably: to a temporary name, fsynced, then renamed. */
async function store(dir: string, part: NodeJS.ReadableStream): Promise<void> {
  const path = join(dir, randomBytes(8).toString('hex'));
  const out = createWriteStream(`${path}.part`);
  part.pipe(out);
  await finished(out);
  const file = await open(`${path}.part`, 'r');
  await file.sync();
  await file.close();
  await rename(`${path}.part`, path);
}

function receive(dir: string, req: IncomingMessage, res: ServerResponse): void {
  const fail = (): void => { res.writeHead(400).end(); };
  if (!(req.headers['content-type'] ?? '').startsWith('multipart/form-data')) { fail(); return; }
  const parts: Promise<void>[] = [];
  const form = Busboy({ headers: { ...req.headers, 'content-type': req.headers['content-type'] ?? '' } });
  form.on('file', (_field: string, part: NodeJS.ReadableStream) => { parts.push(store(dir, part)); });
  form.on('finish', () => {
    Promise.all(parts).then(() => {
      // The fields the benchmark's client reads from imghost's answer.
      res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ id: 'bare', thumb: { bytes: 0 } }));
    }, fail);
  });
  form.on('error', fail);
  req.pipe(form);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [dir = '.', port = '0'] = process.argv.slice(2);
  createServer((req, res) => {
    if (req.method === 'POST') receive(dir, req, res);
    else res.writeHead(404).end();
  }).listen(Number(port), '127.0.0.1');
}
