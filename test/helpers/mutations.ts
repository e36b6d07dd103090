// The seeded mutations of the fuzz test: bytes flipped, set, deleted, duplicated, files cut and
// spliced, and one of a file's structural blocks (a JPEG segment, a PNG or WebP chunk, a GIF
// frame or extension) repeated up to thousands of times.
import { type Chunk, jpegSegments, pngChunks, repeated, type Segment } from './hostile.js';

/** The chunks of a WebP's RIFF container, from the first after the header. */
function webpChunks(webp: Buffer): Chunk[] {
  const chunks: Chunk[] = [];
  for (let at = 12; at + 8 <= webp.length;) {
    const size = webp.readUInt32LE(at + 4);
    const end = at + 8 + size + (size % 2);
    chunks.push({ type: webp.toString('latin1', at, at + 4), start: at, end });
    at = end;
  }
  return chunks;
}

/** The end of the chain of sub-blocks from `at` (after its zero-length terminator). */
function subBlocksEnd(data: Buffer, at: number): number {
  while (at < data.length && data.readUInt8(at) !== 0) at += 1 + data.readUInt8(at);
  return at + 1;
}

/** The size of the colour table whose presence and size `flags` give. */
const colourTable = (flags: number): number => (flags & 0x80 ? 3 * 2 ** ((flags & 0x07) + 1) : 0);

/** The blocks of a GIF after its screen and colour table: extensions, frames, the trailer. */
function gifBlocks(data: Buffer): Segment[] {
  const blocks: Segment[] = [];
  for (let at = 13 + colourTable(data.readUInt8(10)); at < data.length;) {
    const marker = data.readUInt8(at);
    let end = at + 1;
    if (marker === 0x21) end = subBlocksEnd(data, at + 2);
    else if (marker === 0x2c && at + 10 <= data.length) end = subBlocksEnd(data, at + 11 + colourTable(data.readUInt8(at + 9)));
    blocks.push({ marker, start: at, end: Math.min(end, data.length) });
    if (marker !== 0x21 && marker !== 0x2c) break;
    at = end;
  }
  return blocks;
}

export type Mutation = 'bit-flip' | 'byte-set' | 'chunk-delete' | 'chunk-duplicate' | 'truncate' | 'splice' | 'block-repeat';
export const mutations: readonly Mutation[] = ['bit-flip', 'byte-set', 'chunk-delete', 'chunk-duplicate', 'truncate', 'splice', 'block-repeat'];

/** The most a `block-repeat` adds: enough for thousands of small blocks, little enough for a quick run. */
const MAX_REPEATED = 1024 * 1024;

/**
 * The structural units of a JPEG (marker segments up to the first scan), PNG (chunks), WebP
 * (RIFF chunks) or GIF (extensions, frames, trailer): what `block-repeat` multiplies.
 */
function blocksOf(data: Buffer): { start: number; end: number }[] {
  const blocks = (() => {
    if (data.length < 16) return [];
    if (data.readUInt16BE(0) === 0xffd8) return jpegSegments(data);
    if (data.readUInt32BE(0) === 0x89504e47) return pngChunks(data);
    if (data.toString('latin1', 0, 4) === 'RIFF' && data.toString('latin1', 8, 12) === 'WEBP') return webpChunks(data);
    if (data.toString('latin1', 0, 3) === 'GIF') return gifBlocks(data);
    return [];
  })();
  return blocks.filter((b) => b.end > b.start && b.end <= data.length);
}

/** Bytes a decoder treats specially: markers, lengths at their limits. */
const INTERESTING = [0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff];

/**
 * `data` changed by `kind`, at places drawn from `random`. Header bytes are hit more often than
 * their share of the file, because that is where parsers make their decisions.
 */
export function mutate(data: Buffer, kind: Mutation, random: () => number, donor: Buffer): Buffer {
  const int = (n: number) => Math.floor(random() * n);
  const offset = () => (random() < 0.5 ? int(Math.min(data.length, 256)) : int(data.length));
  const span = () => 1 + int(Math.min(64, data.length));
  switch (kind) {
    case 'bit-flip': {
      const out = Buffer.from(data);
      for (let n = 1 + int(8); n > 0; n--) {
        const at = offset();
        out.writeUInt8(out.readUInt8(at) ^ (1 << int(8)), at);
      }
      return out;
    }
    case 'byte-set': {
      const out = Buffer.from(data);
      for (let n = 1 + int(4); n > 0; n--) out.writeUInt8(INTERESTING[int(INTERESTING.length)] ?? 0, offset());
      return out;
    }
    case 'chunk-delete': {
      const at = offset();
      return Buffer.concat([data.subarray(0, at), data.subarray(at + span())]);
    }
    case 'chunk-duplicate': {
      const at = offset();
      const piece = data.subarray(at, at + span());
      return Buffer.concat([data.subarray(0, at), piece, piece, data.subarray(at + piece.length)]);
    }
    case 'truncate':
      return data.subarray(0, 1 + int(data.length - 1));
    case 'block-repeat': {
      // Many frames, chunks, segments or blocks: one of them repeated in place up to thousands of times.
      const blocks = blocksOf(data);
      const block = blocks[int(blocks.length)];
      if (block === undefined) return data;
      const piece = data.subarray(block.start, block.end);
      const count = 2 + int(Math.min(10_000, Math.floor(MAX_REPEATED / piece.length)));
      const out = Buffer.concat([data.subarray(0, block.start), repeated(piece, count), data.subarray(block.end)]);
      // A RIFF container states its size: keep it true, so the walkers follow every chunk.
      if (out.toString('latin1', 0, 4) === 'RIFF') out.writeUInt32LE(out.length - 8, 4);
      return out;
    }
    case 'splice': {
      // The head of one image on the tail of another: plausible headers over foreign data.
      const at = offset();
      return Buffer.concat([data.subarray(0, at), donor.subarray(int(donor.length))]);
    }
  }
}
