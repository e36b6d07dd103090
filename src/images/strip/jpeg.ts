// JPEG: walks the marker segments as the upload arrives and keeps only what decoding and colour
// need (JFIF, ICC profile, Adobe colour transform, tables, frames and scans); EXIF, XMP,
// IPTC/Photoshop, comments, MPF/FlashPix, vendor APPn blocks and anything after the end-of-image
// marker are dropped. A non-trivial EXIF Orientation is written back in a minimal EXIF block
// where the old one was.
import { orientationOf, orientationOnly, turns } from './exif.js';
import type { Incoming, Walk } from './incoming.js';

const SOI = 0xd8;
const EOI = 0xd9;
const SOS = 0xda;
const APP0 = 0xe0;
const APP1 = 0xe1;
const APP2 = 0xe2;
const APP14 = 0xee;
const COM = 0xfe;

const EXIF_HEADER = Buffer.from('Exif\0\0', 'latin1');
const EXIF_SIGNATURE = EXIF_HEADER.subarray(0, 5);

export const isJpeg = (head: Buffer): boolean => head[0] === 0xff && head[1] === SOI;

/** Markers that stand alone, without a length: TEM and the restart markers. */
const standalone = (code: number): boolean => code === 0x01 || isRestart(code);
const isRestart = (code: number): boolean => code >= 0xd0 && code <= 0xd7;

const JFIF = Buffer.from('JFIF\0', 'latin1');
const ICC = Buffer.from('ICC_PROFILE\0', 'latin1');
const ADOBE = Buffer.from('Adobe', 'latin1');
/** Where a segment's payload starts: after its marker and length. */
const PAYLOAD = 4;

/** Whether the buffered segment with marker `code` carries only what decoding or colour needs. */
function needed(code: number, input: Incoming): boolean {
  if (code === APP0) return input.startsWith(PAYLOAD, JFIF);
  if (code === APP2) return input.startsWith(PAYLOAD, ICC);
  if (code === APP14) return input.startsWith(PAYLOAD, ADOBE);
  return !(code >= APP0 && code <= 0xef) && code !== COM;
}

function app1(payload: Buffer): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt16BE(0xff00 | APP1, 0);
  header.writeUInt16BE(payload.length + 2, 2);
  return Buffer.concat([header, payload]);
}

export function* stripJpeg(input: Incoming): Walk {
  input.pass(2);
  let orientationWritten = false;
  for (;;) {
    if (input.available < PAYLOAD) yield* input.need(PAYLOAD);
    if (input.available < 2 || input.at(0) !== 0xff) return yield* input.passRest();
    const code = input.at(1) ?? 0;
    // 0xff may pad before a marker, any number of times.
    if (code === 0xff) { input.pass(input.runOf(0xff, 1)); continue; }
    if (code === EOI) { input.pass(2); return yield* input.dropRest(); }
    if (standalone(code)) { input.pass(2); continue; }
    const size = input.available < PAYLOAD ? 0 : 2 + input.u16(2);
    // A segment is at most 64 KiB: held whole, it is decided on at once.
    if (input.available < size) yield* input.need(size);
    if (size < PAYLOAD || input.available < size) return yield* input.passRest();
    if (code === SOS) {
      input.pass(size);
      yield* entropyCoded(input);
    } else if (needed(code, input)) {
      input.pass(size);
    } else {
      if (code === APP1 && !orientationWritten && input.startsWith(PAYLOAD, EXIF_SIGNATURE)) {
        orientationWritten = true;
        const orientation = orientationOf(input.peek(size).subarray(PAYLOAD + EXIF_HEADER.length));
        if (turns(orientation)) input.insert(app1(Buffer.concat([EXIF_HEADER, orientationOnly(orientation)])));
      }
      input.discard(size);
    }
  }
}

/**
 * Passes the entropy-coded data that follows a scan header: it ends at the first 0xff that is
 * neither stuffing (0xff00) nor a restart marker. Passed a buffer at a time, not between stuffings.
 */
function* entropyCoded(input: Incoming): Walk {
  // The buffered bytes before `from` are known to be entropy-coded.
  let from = 0;
  for (;;) {
    const at = input.indexOf(0xff, from);
    const code = at === -1 ? undefined : input.at(at + 1);
    if (code === undefined) {
      // Kept back: a 0xff the next chunk will tell the meaning of.
      input.pass(at === -1 ? input.available : at);
      from = 0;
      if (input.ended) return;
      yield;
    } else if (code === 0x00 || isRestart(code)) {
      from = at + 2;
    } else {
      input.pass(at);
      return;
    }
  }
}
