// Removes identifying metadata (GPS and camera EXIF, XMP, IPTC, comments) from uploads without
// re-encoding them. JPEG and PNG are stripped as the bytes arrive, in the same pass that spools
// and hashes them: their metadata is whole segments or chunks that can be left out in passing.
// WebP and GIF are stripped once spooled: a WebP's header holds the file size and flags that
// dropping a later chunk changes. TIFF and AVIF keep their metadata: removing it losslessly would
// mean rewriting their offset tables (docs/reliability.md#privacy).
import { open, rename, unlink } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { planGif } from './gif.js';
import { Incoming, type Walk } from './incoming.js';
import { isJpeg, stripJpeg } from './jpeg.js';
import type { Stripped } from './output.js';
import { Plan } from './plan.js';
import { isPng, stripPng } from './png.js';
import { Source } from './source.js';
import { planWebp } from './webp.js';

/** Enough of the start of a file to tell JPEG and PNG apart from everything else. */
const SNIFF = 8;

function* stripAny(input: Incoming): Walk {
  yield* input.need(SNIFF);
  const head = input.peek(SNIFF);
  if (isJpeg(head)) yield* stripJpeg(input);
  else if (isPng(head)) yield* stripPng(input);
  else yield* input.passRest();
}

/** A stream that passes an upload on without the metadata of a JPEG or PNG; anything else passes as it came. */
export function metadataStripper(): Transform {
  let walk: Walk | null = null;
  let input: Incoming | null = null;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      input ??= new Incoming();
      input.feed(chunk);
      walk ??= stripAny(input);
      walk.next();
      done(null, input.output());
    },
    flush(done) {
      if (input && walk) {
        input.ended = true;
        // Every wait returns at once now: one step runs the walker to its end.
        if (walk.next().done !== true) { done(new Error('metadata walker waited past the end of the upload')); return; }
        done(null, input.output());
        return;
      }
      done();
    },
  });
}

export type { Stripped } from './output.js';

const walkers: Readonly<Record<string, (plan: Plan) => Promise<void>>> = {
  webp: planWebp,
  gif: planGif,
};

/**
 * Rewrites the spooled upload at `path` (of the probed `format`) without its metadata, for the
 * formats `metadataStripper` leaves alone, in place; returns the new SHA-256 and size, or null
 * when there was nothing to remove (the file is left untouched).
 */
export async function stripSpooled(path: string, format: string): Promise<Stripped | null> {
  const walk = walkers[format];
  if (walk === undefined) return null;
  const input = await open(path, 'r');
  try {
    const stripped = `${path}.stripped`;
    const plan = new Plan(new Source(input, (await input.stat()).size), stripped);
    try {
      await walk(plan);
      const result = await plan.finish();
      if (result !== null) await rename(stripped, path);
      return result;
    } catch (err) {
      await plan.abandon();
      await unlink(stripped).catch(() => undefined);
      throw err;
    }
  } finally {
    await input.close();
  }
}
