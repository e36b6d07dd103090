// Metadata stripping of files made of millions of tiny blocks, at the sizes an upload may have:
// the result is exact, the time is linear in the size, and memory does not grow with the number
// of frames, chunks or segments (nothing is held per block, the output is written in batches).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import sharp from 'sharp';
import type { Stripped } from '../../src/images/strip/index.js';
import { sha256 } from '../../src/hash.js';
import { gif, pngChunk, repeated, webpChunk, withPngChunks, withWebpChunks } from '../helpers/hostile.js';
import { photo } from '../helpers/images.js';
import { segment, withSegments } from '../helpers/jpeg.js';
import { identifyingPhoto } from '../helpers/metadata.js';
import { strippedBytes } from '../helpers/stripped.js';

const run = promisify(execFile);

/** About the default `max_upload_size` (32 MiB). */
const UPLOAD = 32_000_000;
/** Generous for a machine shared with other tests: stripping 32 MB takes well under a second. */
const MAX_SECONDS = 5;
/**
 * The stripping process runs with this much JavaScript heap: one object per block would need
 * hundreds of MB at these counts and abort it; the stripper needs a few MB.
 */
const HEAP_MB = 48;
/** Node itself with tsx takes about 80 MB; the stripper adds its buffers and garbage not yet collected. */
const MAX_RSS = 160 * 1024 * 1024;

const child = fileURLToPath(new URL('../helpers/strip-child.ts', import.meta.url));

/**
 * Strips `data` as an upload is stripped (arriving 64 KiB at a time, then the spooled pass), in a
 * process of its own with a small heap; checks the time and the peak RSS, returns the result.
 */
async function stripBounded(t: TestContext, data: Buffer, format: string): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), 'imghost-strip-bounds-'));
  try {
    const [input, output] = [join(dir, 'upload'), join(dir, 'stored')];
    await writeFile(input, data);
    const { stdout } = await run(process.execPath, [`--max-old-space-size=${String(HEAP_MB)}`, '--import', 'tsx', child, input, format, output]);
    const { seconds, peakRss, spooled } = JSON.parse(stdout) as { seconds: number; peakRss: number; spooled: Stripped | null };
    t.diagnostic(`${format}, ${String(data.length)} bytes: ${seconds.toFixed(2)} s, peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MiB`);
    assert.ok(seconds < MAX_SECONDS, `took ${seconds.toFixed(1)} s`);
    assert.ok(peakRss < MAX_RSS, `peak RSS ${String(peakRss)} bytes`);
    const out = await readFile(output);
    if (spooled) assert.deepEqual(spooled, { hash: sha256(out), bytes: out.length }, 'the reported hash and size describe the file');
    return out;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** An empty chunk no decoder knows, repeated to fill about `bytes`. */
const unknownWebpChunks = (bytes: number): Buffer => repeated(webpChunk('JUNK', Buffer.alloc(0)), Math.floor(bytes / 8));

describe('stripping files of millions of blocks', () => {
  it('drops the comment of a 33 MB GIF of 2.2 million 1x1 frames, keeping every frame', async (t) => {
    const frames = 2_200_000;
    const commented = gif({ width: 1, height: 1, frames, comment: 'taken at home by Alice', timed: false });
    assert.ok(commented.length > 32_000_000);
    const out = await stripBounded(t, commented, 'gif');
    assert.ok(out.equals(gif({ width: 1, height: 1, frames, timed: false })), 'the same GIF without its comment');
  });

  it('strips the EXIF of a WebP with 200,000 more chunks, keeping them, and it still decodes', async (t) => {
    const photoWebp = await identifyingPhoto('webp');
    const junk = unknownWebpChunks(1_600_000);
    const out = await stripBounded(t, withWebpChunks(photoWebp, [junk]), 'webp');
    const expected = withWebpChunks(await strippedBytes(photoWebp, 'webp'), [junk]);
    assert.ok(out.equals(expected), 'the photo stripped as on its own, the chunks after it, the RIFF size updated');
    const meta = await sharp(out).metadata();
    assert.deepEqual([meta.orientation, meta.xmp], [6, undefined]);
    assert.deepEqual(await sharp(out).raw().toBuffer(), await sharp(photoWebp).raw().toBuffer());
  });

  it('strips a 32 MB WebP of 4 million tiny chunks', async (t) => {
    const photoWebp = await identifyingPhoto('webp');
    const junk = unknownWebpChunks(UPLOAD);
    const out = await stripBounded(t, withWebpChunks(photoWebp, [junk]), 'webp');
    assert.ok(out.equals(withWebpChunks(await strippedBytes(photoWebp, 'webp'), [junk])));
  });

  it('strips a WebP whose every other chunk of millions is XMP', async (t) => {
    const photoWebp = await photo(32, 24, 'webp');
    const kept = webpChunk('JUNK', Buffer.alloc(0));
    const pairs = Math.floor(UPLOAD / 16);
    const out = await stripBounded(t, withWebpChunks(photoWebp, [repeated(Buffer.concat([kept, webpChunk('XMP ', Buffer.alloc(0))]), pairs)]), 'webp');
    assert.ok(out.equals(withWebpChunks(photoWebp, [repeated(kept, pairs)])));
  });

  it('drops 8 million JPEG comments, and passes 32 MB of fill bytes before a marker', async (t) => {
    const base = await photo(64, 48);
    const comments = withSegments(base, [repeated(segment(0xfffe, Buffer.alloc(0)), UPLOAD / 4)]);
    assert.ok((await stripBounded(t, comments, 'jpeg')).equals(base));
    // 0xff may pad before any marker, as often as it likes: kept, as it came.
    const filled = withSegments(base, [Buffer.alloc(UPLOAD, 0xff)]);
    assert.ok((await stripBounded(t, filled, 'jpeg')).equals(filled));
  });

  it('keeps every other one of millions of JPEG segments, and it still decodes when there are fewer', async (t) => {
    const base = await photo(64, 48);
    const jfif = segment(0xffe0, Buffer.from('JFIF\0', 'latin1'));
    const pair = Buffer.concat([segment(0xfffe, Buffer.from('Alice')), jfif]);
    const pairs = Math.floor(UPLOAD / pair.length);
    const out = await stripBounded(t, withSegments(base, [repeated(pair, pairs)]), 'jpeg');
    assert.ok(out.equals(withSegments(base, [repeated(jfif, pairs)])));
    const few = await stripBounded(t, withSegments(base, [repeated(pair, 1000)]), 'jpeg');
    assert.deepEqual(await sharp(few).raw().toBuffer(), await sharp(base).raw().toBuffer());
  });

  it('drops millions of PNG text chunks between millions of unknown ones it keeps, and it still decodes when there are fewer', async (t) => {
    const png = await photo(64, 48, 'png');
    const unknown = pngChunk('abCd', Buffer.alloc(0));
    const pair = Buffer.concat([pngChunk('tEXt', Buffer.alloc(0)), unknown]);
    const pairs = Math.floor(UPLOAD / pair.length);
    const out = await stripBounded(t, withPngChunks(png, [repeated(pair, pairs)]), 'png');
    assert.ok(out.equals(withPngChunks(png, [repeated(unknown, pairs)])));
    const few = await stripBounded(t, withPngChunks(png, [repeated(pair, 1000)]), 'png');
    assert.deepEqual(await sharp(few).raw().toBuffer(), await sharp(png).raw().toBuffer());
  });
});
