// GIF: walks the blocks and drops comment extensions, application extensions other than looping
// (NETSCAPE2.0, ANIMEXTS1.0) and colour (ICCRGBG1012), which drops XMP, and anything after the
// trailer. Frames, palettes, graphic control and plain-text extensions are kept byte for byte.
import type { Plan } from './plan.js';

const IMAGE = 0x2c;
const EXTENSION = 0x21;
const TRAILER = 0x3b;
const COMMENT = 0xfe;
const APPLICATION = 0xff;
const KEPT_APPLICATIONS = new Set(['NETSCAPE2.0', 'ANIMEXTS1.0', 'ICCRGBG1012']);

/** The size of a colour table announced by `flags`, when its presence bit is set. */
const colourTable = (flags: number): number => (flags & 0x80 ? 3 * 2 ** ((flags & 0x07) + 1) : 0);

export async function planGif(plan: Plan): Promise<void> {
  const { source } = plan;
  const screen = await source.bytes(0, 13);
  if (screen.length < 13 || !/^GIF8[79]a$/.test(screen.toString('latin1', 0, 6))) { plan.keepRest(0); return; }
  let pos = 13 + colourTable(screen[10] ?? 0);
  plan.keep(0, pos);
  for (;;) {
    const introducer = await source.u8(pos);
    let end: number;
    if (introducer === TRAILER) {
      plan.keep(pos, pos + 1);
      plan.dropTrailing(pos + 1);
      return;
    } else if (introducer === IMAGE) {
      const descriptor = await source.bytes(pos, 10);
      if (descriptor.length < 10) { plan.keepRest(pos); return; }
      // Descriptor, local colour table, LZW code size, then the data sub-blocks.
      end = await subBlocksEnd(plan, pos + 10 + colourTable(descriptor[9] ?? 0) + 1);
    } else if (introducer === EXTENSION) {
      end = await subBlocksEnd(plan, pos + 2);
      if (end !== -1 && !(await keptExtension(plan, pos))) {
        plan.drop();
        pos = end;
        continue;
      }
    } else {
      end = -1;
    }
    if (end === -1) { plan.keepRest(pos); return; }
    plan.keep(pos, end);
    pos = end;
  }
}

async function keptExtension(plan: Plan, pos: number): Promise<boolean> {
  const label = await plan.source.u8(pos + 1);
  if (label === COMMENT) return false;
  if (label !== APPLICATION) return true;
  const id = await plan.source.bytes(pos + 2, 12);
  return id[0] === 11 && KEPT_APPLICATIONS.has(id.toString('latin1', 1, 12));
}

/** Where the chain of sub-blocks starting at `pos` ends (after its zero-length terminator), or -1. */
async function subBlocksEnd(plan: Plan, pos: number): Promise<number> {
  for (;;) {
    const length = await plan.source.u8(pos);
    if (length === undefined) return -1;
    pos += 1 + length;
    if (length === 0) return pos > plan.source.size ? -1 : pos;
  }
}
