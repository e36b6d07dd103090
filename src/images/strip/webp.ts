// WebP: drops the EXIF and XMP chunks of the RIFF container and anything after it, and updates
// the VP8X flags and the RIFF size to match. Image, alpha, animation and ICC chunks are kept
// byte for byte. A non-trivial EXIF Orientation is written back as a minimal EXIF chunk.
import { orientationOf, orientationOnly, turns } from './exif.js';
import { Plan } from './plan.js';

const HEADER = 12;
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
  const header = await source.bytes(0, HEADER);
  const riffEnd = 8 + (header.length === HEADER ? header.readUInt32LE(4) : 0);
  if (header.toString('latin1', 0, 4) !== 'RIFF' || header.toString('latin1', 8, 12) !== 'WEBP' || riffEnd > source.size) {
    plan.keepRest(0);
    return;
  }
  // The chunks are planned apart: the header and the VP8X flags are only known once they are.
  const body = new Plan(source);
  let vp8x: Buffer | null = null;
  let orientation: number | undefined;
  let exifSeen = false;
  for (let pos = HEADER; pos < riffEnd;) {
    const head = await source.bytes(pos, 8);
    const fourcc = head.toString('latin1', 0, 4);
    const end = head.length < 8 ? Infinity : pos + 8 + head.readUInt32LE(4) + (head.readUInt32LE(4) % 2);
    // A container this walker cannot follow is left exactly as it came.
    if (end > riffEnd) { plan.keepRest(0); return; }
    if (fourcc === 'VP8X' && vp8x === null && end - pos >= 18) {
      vp8x = Buffer.from(await source.bytes(pos, end - pos));
      body.pieces.push(vp8x);
    } else if (fourcc === 'EXIF' || fourcc === 'XMP ') {
      body.drop();
      if (fourcc === 'EXIF' && !exifSeen) {
        exifSeen = true;
        const data = await source.bytes(pos + 8, head.readUInt32LE(4));
        orientation = orientationOf(data.toString('latin1', 0, 6) === EXIF_HEADER ? data.subarray(6) : data);
        if (turns(orientation)) body.insert(chunk('EXIF', orientationOnly(orientation)));
      }
    } else {
      body.keep(pos, end);
    }
    pos = end;
  }
  body.dropTrailing(riffEnd);
  if (!body.changed) { plan.keepRest(0); return; }
  if (vp8x) {
    const flags = vp8x[8] ?? 0;
    vp8x[8] = (flags & ~(EXIF_FLAG | XMP_FLAG)) | (turns(orientation) ? EXIF_FLAG : 0);
  }
  const riff = Buffer.from(await source.bytes(0, HEADER));
  riff.writeUInt32LE(HEADER - 8 + body.length, 4);
  plan.insert(riff);
  plan.pieces.push(...body.pieces);
}
