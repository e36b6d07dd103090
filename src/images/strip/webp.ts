// WebP: drops the EXIF and XMP chunks of the RIFF container and anything after it, and updates
// the VP8X flags and the RIFF size to match. Image, alpha, animation and ICC chunks are kept
// byte for byte. A non-trivial EXIF Orientation is written back as a minimal EXIF chunk.
//
// The header comes first but states what follows, so the chunks are walked twice: once to
// measure what is left, then to write it after a header that says so. Nothing is held between.
import { MAX_EXIF, orientationOf, orientationOnly, turns } from './exif.js';
import { Plan } from './plan.js';

const HEADER = 12;
/** The VP8X chunk: FourCC, size, then the flags first among (at least) 10 bytes. */
const VP8X_CHUNK = 18;
const FLAGS = HEADER + 8;
const EXIF_FLAG = 0x08;
const XMP_FLAG = 0x04;
const EXIF_HEADER = 'Exif\0\0';

function chunk(fourcc: string, data: Buffer): Buffer {
  const padded = data.length + (data.length % 2);
  const out = Buffer.alloc(8 + padded);
  out.write(fourcc, 0, 'latin1');
  out.writeUInt32LE(data.length, 4);
  data.copy(out, 8);
  return out;
}

export async function planWebp(plan: Plan): Promise<void> {
  const { source } = plan;
  const start = Buffer.from(await source.bytes(0, HEADER + VP8X_CHUNK));
  const riffEnd = 8 + (start.length >= HEADER ? start.readUInt32LE(4) : 0);
  if (start.toString('latin1', 0, 4) !== 'RIFF' || start.toString('latin1', 8, 12) !== 'WEBP' || riffEnd > source.size) {
    await plan.keepRest(0);
    return;
  }
  const vp8xSize = start.length === HEADER + VP8X_CHUNK && start.toString('latin1', HEADER, HEADER + 4) === 'VP8X' ? start.readUInt32LE(HEADER + 4) : 0;
  const vp8xEnd = HEADER + 8 + vp8xSize + (vp8xSize % 2);
  const hasVp8x = vp8xSize >= VP8X_CHUNK - 8 && vp8xEnd <= riffEnd;
  const measure = new Plan(source);
  await measure.keep(0, HEADER);
  const walked = await walkChunks(measure, HEADER, riffEnd);
  measure.dropTrailing(riffEnd);
  // A container this walker cannot follow is left exactly as it came.
  if (walked === null || !measure.changed) { await plan.keepRest(0); return; }
  start.writeUInt32LE(measure.length - 8, 4);
  if (hasVp8x) {
    const flags = start[FLAGS] ?? 0;
    start[FLAGS] = (flags & ~(EXIF_FLAG | XMP_FLAG)) | (turns(walked.orientation) ? EXIF_FLAG : 0);
    await plan.insert(start);
    await plan.keep(start.length, vp8xEnd);
    await walkChunks(plan, vp8xEnd, riffEnd);
  } else {
    await plan.insert(start.subarray(0, HEADER));
    await walkChunks(plan, HEADER, riffEnd);
  }
  plan.dropTrailing(riffEnd);
}

/** A FourCC as the number its bytes spell, little-endian, as RIFF reads them. */
const fourccCode = (fourcc: string): number => Buffer.from(fourcc, 'latin1').readUInt32LE(0);
const EXIF = fourccCode('EXIF');
const XMP = fourccCode('XMP ');

/**
 * Plans the chunks from `pos` to the end of the container: what is kept, and the orientation
 * read from the first EXIF chunk. Null when a chunk runs past the container.
 */
async function walkChunks(plan: Plan, pos: number, riffEnd: number): Promise<{ orientation: number | undefined } | null> {
  const { source } = plan;
  let orientation: number | undefined;
  let exifSeen = false;
  while (pos < riffEnd) {
    if (!source.holds(pos, 8)) await source.load(pos, 8);
    if (pos + 8 > riffEnd) return null;
    const fourcc = source.u32le(pos);
    const size = source.u32le(pos + 4);
    const end = pos + 8 + size + (size % 2);
    if (end > riffEnd) return null;
    if (fourcc === EXIF || fourcc === XMP) {
      plan.drop();
      if (fourcc === EXIF && !exifSeen) {
        exifSeen = true;
        const data = await source.bytes(pos + 8, Math.min(size, MAX_EXIF));
        orientation = orientationOf(data.toString('latin1', 0, 6) === EXIF_HEADER ? data.subarray(6) : data);
        if (turns(orientation)) await plan.insert(chunk('EXIF', orientationOnly(orientation)));
      }
    } else {
      const writing = plan.keep(pos, end);
      if (writing) await writing;
    }
    pos = end;
  }
  return { orientation };
}
