// Counts the parts of a GIF (frames, and other blocks), a WebP (animation frames, and other
// chunks) or a TIFF (pages: image file directories) without decoding it. Reading even the header
// of such a file, libvips keeps a record of every frame and every chunk: a 33 MB GIF of two
// million 1x1 frames, or a WebP of millions of empty chunks, costs the reading process five to
// seven times the file's size; libtiff walks every page, in time that grows faster than their
// number (7 s for 328,000 in a 32 MiB file, holding a thread of the server's pool). Real
// animations have hundreds or a few thousand frames and a handful of other parts.
import { open } from 'node:fs/promises';
import { colourTable, DESCRIPTOR, EXTENSION, IMAGE, SCREEN, subBlocksEnd, TRAILER } from './strip/gif.js';
import { Source } from './strip/source.js';

export interface Parts { frames: number; others: number }

export type PartsFormat = 'gif' | 'webp' | 'tiff';

const RIFF_HEADER = 12;
const CHUNK_HEADER = 8;

/** Whether `head` (a file's first bytes) starts a GIF, a WebP or a TIFF, whose parts are worth counting. */
export function partsFormat(head: Buffer): PartsFormat | null {
  if (/^GIF8[79]a/.test(head.toString('latin1', 0, 6))) return 'gif';
  if (head.toString('latin1', 0, 4) === 'RIFF' && head.toString('latin1', 8, 12) === 'WEBP') return 'webp';
  if (/^(?:II[*+]\0|MM\0[*+])/.test(head.toString('latin1', 0, 4))) return 'tiff';
  return null;
}

/**
 * Frames and other parts of the GIF or WebP at `path`, counted until either passes `stopAfter`.
 * Whatever does not parse ends the count: the decoder will refuse it.
 */
export async function countParts(path: string, format: PartsFormat, stopAfter: number): Promise<Parts> {
  const file = await open(path, 'r');
  try {
    const source = new Source(file, (await file.stat()).size);
    const parts: Parts = { frames: 0, others: 0 };
    const more = () => parts.frames <= stopAfter && parts.others <= stopAfter;
    await walkers[format](source, parts, more);
    return parts;
  } finally {
    await file.close();
  }
}

async function gifParts(source: Source, parts: Parts, more: () => boolean): Promise<void> {
  const screen = await source.bytes(0, SCREEN);
  let pos = SCREEN + colourTable(screen[10] ?? 0);
  while (more()) {
    if (!source.holds(pos, DESCRIPTOR)) await source.load(pos, DESCRIPTOR);
    const introducer = source.u8(pos);
    let end: number | Promise<number> = -1;
    if (introducer === IMAGE && pos + DESCRIPTOR <= source.size) {
      parts.frames++;
      end = subBlocksEnd(source, pos + DESCRIPTOR + colourTable(source.u8(pos + 9) ?? 0) + 1);
    } else if (introducer === EXTENSION) {
      parts.others++;
      end = subBlocksEnd(source, pos + 2);
    } else if (introducer === TRAILER) {
      return;
    }
    if (typeof end !== 'number') end = await end;
    if (end === -1) return;
    pos = end;
  }
}

async function webpParts(source: Source, parts: Parts, more: () => boolean): Promise<void> {
  const header = await source.bytes(0, RIFF_HEADER);
  const riffEnd = header.length < RIFF_HEADER ? 0 : Math.min(source.size, 8 + header.readUInt32LE(4));
  for (let pos = RIFF_HEADER; pos + CHUNK_HEADER <= riffEnd && more();) {
    if (!source.holds(pos, CHUNK_HEADER)) await source.load(pos, CHUNK_HEADER);
    const fourcc = source.peek(pos, 4)?.toString('latin1');
    const size = source.u32le(pos + 4);
    if (fourcc === 'ANMF') parts.frames++;
    else parts.others++;
    pos += CHUNK_HEADER + size + (size % 2);
  }
}

/**
 * A TIFF's pages: the chain of image file directories, each an entry count, the entries and the
 * offset of the next (BigTIFF: 8-byte counts and offsets, 20-byte entries). A chain that loops
 * back or leaves the file ends the count.
 */
async function tiffParts(source: Source, parts: Parts, more: () => boolean): Promise<void> {
  const header = await source.bytes(0, 16);
  const little = header.toString('latin1', 0, 2) === 'II';
  const big = header[little ? 2 : 3] === 43;
  if (header.length < (big ? 16 : 8)) return;
  const number = (at: Buffer, pos: number, bytes: number): number => {
    if (bytes === 2) return little ? at.readUInt16LE(pos) : at.readUInt16BE(pos);
    if (bytes === 4) return little ? at.readUInt32LE(pos) : at.readUInt32BE(pos);
    return Number(little ? at.readBigUInt64LE(pos) : at.readBigUInt64BE(pos));
  };
  const [countBytes, entryBytes, offsetBytes] = big ? [8, 20, 8] : [2, 12, 4];
  let pos = big ? number(header, 8, 8) : number(header, 4, 4);
  const seen = new Set<number>();
  while (pos > 0 && pos + countBytes <= source.size && !seen.has(pos) && more()) {
    seen.add(pos);
    parts.frames++;
    const entries = number(await source.bytes(pos, countBytes), 0, countBytes);
    const next = pos + countBytes + entries * entryBytes;
    const link = await source.bytes(next, offsetBytes);
    if (link.length < offsetBytes) return;
    pos = number(link, 0, offsetBytes);
  }
}

const walkers: Readonly<Record<PartsFormat, (source: Source, parts: Parts, more: () => boolean) => Promise<void>>> = {
  gif: gifParts,
  webp: webpParts,
  tiff: tiffParts,
};
