// What the server keeps of an upload when --strip_metadata is on: the same stripper run on a
// temporary file, for tests that check an accepted file is served back as stored.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stripMetadata } from '../../src/images/strip/index.js';

export async function strippedBytes(data: Buffer, format: string): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), 'imghost-stripped-'));
  try {
    const path = join(dir, 'upload');
    await writeFile(path, data);
    await stripMetadata(path, format);
    return await readFile(path);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
