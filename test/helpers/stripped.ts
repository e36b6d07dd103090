// What the server keeps of an upload when --strip_metadata is on: the same two steps the ingest
// runs (stripped while spooled, then the formats the stream leaves alone rewritten), on a
// temporary file, for tests that check what is stored.
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { metadataStripper, stripSpooled, type Stripped } from '../../src/images/strip/index.js';

/** Strips the bytes `body` yields into a new file at `path`, as the ingest does: in passing, then once spooled. */
export async function stripInto(body: Readable, path: string, format: string): Promise<Stripped | null> {
  await pipeline(body, metadataStripper(), createWriteStream(path));
  return stripSpooled(path, format);
}

/** Feeds `data` in `chunk`-byte pieces (the whole at once by default), as a request body arrives. */
export async function stripUpload(data: Buffer, format: string, chunk = data.length): Promise<{ out: Buffer; spooled: Stripped | null }> {
  const dir = await mkdtemp(join(tmpdir(), 'imghost-stripped-'));
  try {
    const path = join(dir, 'upload');
    const pieces = Array.from({ length: Math.ceil(data.length / chunk) }, (_, i) => data.subarray(i * chunk, (i + 1) * chunk));
    const spooled = await stripInto(Readable.from(pieces), path, format);
    return { out: await readFile(path), spooled };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function strippedBytes(data: Buffer, format: string): Promise<Buffer> {
  return (await stripUpload(data, format)).out;
}
