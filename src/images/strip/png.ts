// PNG: walks the chunks as the upload arrives and drops the metadata ones (eXIf, the
// tEXt/zTXt/iTXt text chunks, which hold XMP too, tIME and caBX content credentials) and anything
// after IEND. Colour chunks (iCCP, gAMA, cHRM, sRGB, cICP) and everything else are kept byte for
// byte. A non-trivial EXIF Orientation is written back as a minimal eXIf chunk where the old one was.
import { crc32 } from 'node:zlib';
import { MAX_EXIF, orientationOf, orientationOnly, turns } from './exif.js';
import type { Incoming, Walk } from './incoming.js';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const METADATA = ['eXIf', 'tEXt', 'zTXt', 'iTXt', 'tIME', 'caBX'];
/** Length and type before a chunk's data, CRC after it. */
const HEAD = 8;
const CRC = 4;

export const isPng = (head: Buffer): boolean => head.subarray(0, SIGNATURE.length).equals(SIGNATURE);

/** A PNG chunk: length, type, data and CRC. */
export function pngChunk(type: string, data: Buffer): Buffer {
  const out = Buffer.alloc(HEAD + data.length + CRC);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  data.copy(out, HEAD);
  out.writeUInt32BE(crc32(out.subarray(4, HEAD + data.length)), HEAD + data.length);
  return out;
}

/** A chunk type as the number its four bytes spell, big-endian. */
const typeCode = (type: string): number => Buffer.from(type, 'latin1').readUInt32BE(0);
const METADATA_CODES = new Set([...METADATA].map(typeCode));
const EXIF = typeCode('eXIf');
const IEND = typeCode('IEND');

export function* stripPng(input: Incoming): Walk {
  input.pass(SIGNATURE.length);
  let orientationWritten = false;
  for (;;) {
    if (input.available < HEAD) yield* input.need(HEAD);
    if (input.available < HEAD) return yield* input.passRest();
    const length = input.u32(0);
    const type = input.u32(4);
    const total = HEAD + length + CRC;
    if (!METADATA_CODES.has(type)) {
      // Image data streams through: IDAT chunks can be as large as the file.
      if (input.available >= total) input.pass(total);
      else yield* input.passOn(total);
      if (type === IEND) return yield* input.dropRest();
      continue;
    }
    if (type === EXIF && !orientationWritten && length <= MAX_EXIF) {
      orientationWritten = true;
      yield* input.need(HEAD + length);
      const orientation = orientationOf(input.peek(HEAD + length).subarray(HEAD));
      if (turns(orientation)) input.insert(pngChunk('eXIf', orientationOnly(orientation)));
    }
    if (input.available >= total) input.discard(total);
    else yield* input.skipOver(total);
  }
}
