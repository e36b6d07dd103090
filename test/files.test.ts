// Small filesystem helpers: the batched writer the upload spool goes through.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { batchedFileWriter } from '../src/files.js';

const dirs: string[] = [];
async function tempDataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'imghost-files-'));
  dirs.push(dir);
  return dir;
}
after(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

const written = (stream: NodeJS.WritableStream, chunk: Buffer) => new Promise<void>((resolve, reject) => {
  stream.write(chunk, (err) => { if (err) reject(err); else resolve(); });
});

describe('batchedFileWriter', () => {
  it('holds chunks until a batch has gathered, then writes them all, and the rest at the end, byte for byte', async () => {
    const dir = await tempDataDir();
    const path = join(dir, 'spooled');
    const writer = batchedFileWriter(path, 100);
    const chunks = [Buffer.alloc(60, 1), Buffer.alloc(60, 2), Buffer.alloc(10, 3)];
    await written(writer, chunks[0] ?? Buffer.alloc(0));
    assert.equal((await stat(path)).size, 0, 'less than a batch: nothing written yet');
    await written(writer, chunks[1] ?? Buffer.alloc(0));
    assert.equal((await stat(path)).size, 120, 'a batch: both chunks written');
    await new Promise<void>((resolve) => { writer.end(chunks[2], resolve); });
    assert.deepEqual(await readFile(path), Buffer.concat(chunks));
  });

  it('fails, leaving no open file, when the file cannot be created', async () => {
    const writer = batchedFileWriter(join(await tempDataDir(), 'missing-dir', 'spooled'), 100);
    const failed = new Promise<NodeJS.ErrnoException>((resolve) => { writer.on('error', resolve); });
    assert.equal((await failed).code, 'ENOENT');
  });
});
