// GIF: walks the blocks and drops comment extensions, application extensions other than looping
// (NETSCAPE2.0, ANIMEXTS1.0) and colour (ICCRGBG1012), which drops XMP, and anything after the
// trailer. Frames, palettes, graphic control and plain-text extensions are kept byte for byte.
import type { Plan } from './plan.js';
import type { Source } from './source.js';

export const IMAGE = 0x2c;
export const EXTENSION = 0x21;
export const TRAILER = 0x3b;
const COMMENT = 0xfe;
const APPLICATION = 0xff;
const KEPT_APPLICATIONS = new Set(['NETSCAPE2.0', 'ANIMEXTS1.0', 'ICCRGBG1012']);
export const SCREEN = 13;
export const DESCRIPTOR = 10;
/** Enough of a block to decide on it: an image descriptor, or an extension's label and application id. */
const BLOCK_HEAD = 14;

/** The size of a colour table announced by `flags`, when its presence bit is set. */
export const colourTable = (flags: number): number => (flags & 0x80 ? 3 * 2 ** ((flags & 0x07) + 1) : 0);

export async function planGif(plan: Plan): Promise<void> {
  const { source } = plan;
  const screen = await source.bytes(0, SCREEN);
  if (screen.length < SCREEN || !/^GIF8[79]a$/.test(screen.toString('latin1', 0, 6))) { await plan.keepRest(0); return; }
  let pos = SCREEN + colourTable(screen[10] ?? 0);
  await plan.keep(0, pos);
  for (;;) {
    // Everything about the block is read before its sub-blocks move the window on.
    if (!source.holds(pos, BLOCK_HEAD)) await source.load(pos, BLOCK_HEAD);
    const introducer = source.u8(pos);
    let kept = true;
    let end: number | Promise<number> = -1;
    if (introducer === TRAILER) {
      await plan.keep(pos, pos + 1);
      plan.dropTrailing(pos + 1);
      return;
    } else if (introducer === IMAGE && pos + DESCRIPTOR <= source.size) {
      // Descriptor, local colour table, LZW code size, then the data sub-blocks.
      end = subBlocksEnd(source, pos + DESCRIPTOR + colourTable(source.u8(pos + 9) ?? 0) + 1);
    } else if (introducer === EXTENSION) {
      kept = keptExtension(source, pos);
      end = subBlocksEnd(source, pos + 2);
    }
    if (typeof end !== 'number') end = await end;
    if (end === -1) { await plan.keepRest(pos); return; }
    if (kept) {
      const writing = plan.keep(pos, end);
      if (writing) await writing;
    } else {
      plan.drop();
    }
    pos = end;
  }
}

/** Whether the extension at `pos` is kept; the window holds its label and any application id. */
function keptExtension(source: Source, pos: number): boolean {
  const label = source.u8(pos + 1);
  if (label === COMMENT) return false;
  if (label !== APPLICATION) return true;
  const id = source.peek(pos + 2, 12);
  return id?.[0] === 11 && KEPT_APPLICATIONS.has(id.toString('latin1', 1, 12));
}

/**
 * Where the chain of sub-blocks starting at `pos` ends (after its zero-length terminator), or -1.
 * A number when the window holds the chain; a promise only when the window has to move.
 */
export function subBlocksEnd(source: Source, pos: number): number | Promise<number> {
  for (;;) {
    if (!source.holds(pos, 1)) return source.load(pos, 1).then(() => subBlocksEnd(source, pos));
    const length = source.u8(pos);
    if (length === undefined) return -1;
    pos += 1 + length;
    if (length === 0) return pos > source.size ? -1 : pos;
  }
}
