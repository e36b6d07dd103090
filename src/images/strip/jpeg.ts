// JPEG: walks the marker segments and keeps only what decoding and colour need (JFIF, ICC
// profile, Adobe colour transform, tables, frames and scans); EXIF, XMP, IPTC/Photoshop, comments,
// MPF/FlashPix, vendor APPn blocks and anything after the end-of-image marker are dropped. A
// non-trivial EXIF Orientation is written back in a minimal EXIF block where the old one was.
import { orientationOf, orientationOnly, turns } from './exif.js';
import type { Plan } from './plan.js';

const SOI = 0xd8;
const EOI = 0xd9;
const SOS = 0xda;
const APP0 = 0xe0;
const APP1 = 0xe1;
const APP2 = 0xe2;
const APP14 = 0xee;
const COM = 0xfe;

const EXIF_HEADER = Buffer.from('Exif\0\0', 'latin1');

/** Markers that stand alone, without a length: TEM and the restart markers. */
const standalone = (code: number): boolean => code === 0x01 || (code >= 0xd0 && code <= 0xd7);

const startsWith = (payload: Buffer, text: string): boolean => payload.toString('latin1', 0, text.length) === text;

/** Whether a segment carries only what decoding or colour needs. */
function needed(code: number, payload: Buffer): boolean {
  if (code === APP0) return startsWith(payload, 'JFIF\0');
  if (code === APP2) return startsWith(payload, 'ICC_PROFILE\0');
  if (code === APP14) return startsWith(payload, 'Adobe');
  return !(code >= APP0 && code <= 0xef) && code !== COM;
}

function app1(payload: Buffer): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt16BE(0xff00 | APP1, 0);
  header.writeUInt16BE(payload.length + 2, 2);
  return Buffer.concat([header, payload]);
}

export async function planJpeg(plan: Plan): Promise<void> {
  const { source } = plan;
  const soi = await source.bytes(0, 2);
  if (soi[0] !== 0xff || soi[1] !== SOI) { plan.keepRest(0); return; }
  plan.keep(0, 2);
  let pos = 2;
  let orientationWritten = false;
  for (;;) {
    const head = await source.bytes(pos, 4);
    if (head.length < 2 || head[0] !== 0xff) { plan.keepRest(pos); return; }
    const code = head[1] ?? 0;
    // 0xff may pad before a marker.
    if (code === 0xff) { plan.keep(pos, pos + 1); pos += 1; continue; }
    if (code === EOI) { plan.keep(pos, pos + 2); plan.dropTrailing(pos + 2); return; }
    if (standalone(code)) { plan.keep(pos, pos + 2); pos += 2; continue; }
    if (head.length < 4) { plan.keepRest(pos); return; }
    const end = pos + 2 + head.readUInt16BE(2);
    if (end - pos < 4 || end > source.size) { plan.keepRest(pos); return; }
    if (code === SOS) {
      // Entropy-coded data follows the scan header: it ends at the first 0xff that is neither
      // stuffing (0xff00) nor a restart marker.
      const next = await scanEnd(plan, end);
      if (next === -1) { plan.keepRest(pos); return; }
      plan.keep(pos, next);
      pos = next;
      continue;
    }
    // Only the start of a payload is needed to tell what it is; an EXIF block is read whole.
    const payload = await source.bytes(pos + 4, code === APP1 ? end - pos - 4 : 16);
    if (needed(code, payload)) {
      plan.keep(pos, end);
    } else {
      plan.drop();
      if (code === APP1 && !orientationWritten && startsWith(payload, 'Exif\0')) {
        orientationWritten = true;
        const orientation = orientationOf(payload.subarray(EXIF_HEADER.length));
        if (turns(orientation)) plan.insert(app1(Buffer.concat([EXIF_HEADER, orientationOnly(orientation)])));
      }
    }
    pos = end;
  }
}

/** Where the entropy-coded data that starts at `from` ends (the next marker), or -1 if it never does. */
async function scanEnd(plan: Plan, from: number): Promise<number> {
  let pos = from;
  for (;;) {
    const at = await plan.source.indexOf(0xff, pos);
    if (at === -1) return -1;
    const code = await plan.source.u8(at + 1);
    if (code === undefined) return -1;
    if (code !== 0x00 && !(code >= 0xd0 && code <= 0xd7)) return at;
    pos = at + 1;
  }
}
