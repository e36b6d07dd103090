// GIF: walks the blocks and drops comment extensions, application extensions other than looping
// (NETSCAPE2.0, ANIMEXTS1.0) and colour (ICCRGBG1012), which drops XMP, and anything after the
// trailer. Frames, palettes, graphic control and plain-text extensions are kept byte for byte.
import type { Plan } from './plan.js';
import type { Source } from './source.js';

const IMAGE = 0x2c;
const EXTENSION = 0x21;
const TRAILER = 0x3b;
const COMMENT = 0xfe;
const APPLICATION = 0xff;
const KEPT_APPLICATIONS = new Set(['NETSCAPE2.0', 'ANIMEXTS1.0', 'ICCRGBG1012']);
/** Enough of a block to decide on it: an image descriptor, or an extension's label and application id. */
const BLOCK_HEAD = 14;

/** The size of a colour table announced by `flags`, when its presence bit is set. */
const colourTable = (flags: number): number => (flags & 0x80 ? 3 * 2 ** ((flags & 0x07) + 1) : 0);

export async function planGif(plan: Plan): Promise<void> {
  const { source } = plan;
  const screen = await source.bytes(0, 13);
  if (screen.length < 13 || !/^GIF8[79]a$/.test(screen.toString('latin1', 0, 6))) { await plan.keepRest(0); return; }
  let pos = 13 + colourTable(screen[10] ?? 0);
  await plan.keep(0, pos);
  for (;;) {
    const head = source.peek(pos, BLOCK_HEAD) ?? (await source.bytes(pos, BLOCK_HEAD));
    const introducer = head[0];
    let end: number;
    if (introducer === TRAILER) {
      await plan.keep(pos, pos + 1);
      plan.dropTrailing(pos + 1);
      return;
    } else if (introducer === IMAGE && head.length >= 10) {
      // Descriptor, local colour table, LZW code size, then the data sub-blocks.
      end = await subBlocksEnd(source, pos + 10 + colourTable(head[9] ?? 0) + 1);
    } else if (introducer === EXTENSION) {
      end = await subBlocksEnd(source, pos + 2);
      if (end !== -1 && !keptExtension(head)) {
        plan.drop();
        pos = end;
        continue;
      }
    } else {
      end = -1;
    }
    if (end === -1) { await plan.keepRest(pos); return; }
    await plan.keep(pos, end);
    pos = end;
  }
}

/** Whether the extension starting `head` is kept: `head` holds its label and any application id. */
function keptExtension(head: Buffer): boolean {
  const label = head[1];
  if (label === COMMENT) return false;
  if (label !== APPLICATION) return true;
  return head[2] === 11 && KEPT_APPLICATIONS.has(head.toString('latin1', 3, 14));
}

/** Where the chain of sub-blocks starting at `pos` ends (after its zero-length terminator), or -1. */
async function subBlocksEnd(source: Source, pos: number): Promise<number> {
  for (;;) {
    const length = (source.peek(pos, 1) ?? (await source.bytes(pos, 1)))[0];
    if (length === undefined) return -1;
    pos += 1 + length;
    if (length === 0) return pos > source.size ? -1 : pos;
  }
}
