// PNG: walks the chunks and drops the metadata ones (eXIf, the tEXt/zTXt/iTXt text chunks, which
// hold XMP too, tIME and caBX content credentials) and anything after IEND. Colour chunks (iCCP,
// gAMA, cHRM, sRGB, cICP) and everything else are kept byte for byte. A non-trivial EXIF
// Orientation is written back as a minimal eXIf chunk where the old one was.
import { crc32 } from 'node:zlib';
import { orientationOf, orientationOnly, turns } from './exif.js';
import type { Plan } from './plan.js';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const METADATA = new Set(['eXIf', 'tEXt', 'zTXt', 'iTXt', 'tIME', 'caBX']);

/** A PNG chunk: length, type, data and CRC. */
export function pngChunk(type: string, data: Buffer): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

export async function planPng(plan: Plan): Promise<void> {
  const { source } = plan;
  if (!(await source.bytes(0, SIGNATURE.length)).equals(SIGNATURE)) { plan.keepRest(0); return; }
  plan.keep(0, SIGNATURE.length);
  let pos = SIGNATURE.length;
  let orientationWritten = false;
  for (;;) {
    const head = await source.bytes(pos, 8);
    if (head.length < 8) { plan.keepRest(pos); return; }
    const length = head.readUInt32BE(0);
    const type = head.toString('latin1', 4, 8);
    const end = pos + 12 + length;
    if (end > source.size) { plan.keepRest(pos); return; }
    if (!METADATA.has(type)) {
      plan.keep(pos, end);
      if (type === 'IEND') { plan.dropTrailing(end); return; }
    } else {
      plan.drop();
      if (type === 'eXIf' && !orientationWritten) {
        orientationWritten = true;
        const orientation = orientationOf(await source.bytes(pos + 8, length));
        if (turns(orientation)) plan.insert(pngChunk('eXIf', orientationOnly(orientation)));
      }
    }
    pos = end;
  }
}
