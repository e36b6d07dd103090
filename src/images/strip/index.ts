// Removes identifying metadata (GPS and camera EXIF, XMP, IPTC, comments) from a spooled upload
// without re-encoding it: the format's walker keeps the pixel data as byte ranges of the original
// and the file is rewritten only when something was dropped. TIFF and AVIF keep their metadata:
// removing it losslessly would mean rewriting their offset tables (docs/reliability.md#privacy).
import { createHash } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import { planGif } from './gif.js';
import { planJpeg } from './jpeg.js';
import { Plan } from './plan.js';
import { planPng } from './png.js';
import { Source } from './source.js';
import { planWebp } from './webp.js';

const walkers: Readonly<Record<string, (plan: Plan) => Promise<void>>> = {
  jpeg: planJpeg,
  png: planPng,
  webp: planWebp,
  gif: planGif,
};

const COPY_CHUNK = 1024 * 1024;

export interface Stripped { hash: string; bytes: number }

/**
 * Rewrites the file at `path` (of the probed `format`) without its metadata, in place, and returns
 * the new SHA-256 and size; null when there was nothing to remove (the file is left untouched).
 */
export async function stripMetadata(path: string, format: string): Promise<Stripped | null> {
  const walk = walkers[format];
  if (walk === undefined) return null;
  const input = await open(path, 'r');
  try {
    const plan = new Plan(new Source(input, (await input.stat()).size));
    await walk(plan);
    if (!plan.changed) return null;
    const stripped = `${path}.stripped`;
    try {
      const result = await write(plan, stripped);
      await rename(stripped, path);
      return result;
    } catch (err) {
      await unlink(stripped).catch(() => undefined);
      throw err;
    }
  } finally {
    await input.close();
  }
}

async function write(plan: Plan, path: string): Promise<Stripped> {
  const hash = createHash('sha256');
  const output = await open(path, 'wx');
  let bytes = 0;
  const emit = async (data: Buffer) => {
    hash.update(data);
    bytes += data.length;
    await output.writeFile(data);
  };
  try {
    for (const piece of plan.pieces) {
      if (Buffer.isBuffer(piece)) { await emit(piece); continue; }
      for (let pos = piece.start; pos < piece.end; pos += COPY_CHUNK) {
        await emit(await plan.source.bytes(pos, Math.min(COPY_CHUNK, piece.end - pos)));
      }
    }
  } finally {
    await output.close();
  }
  return { hash: hash.digest('hex'), bytes };
}
