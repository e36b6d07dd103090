// The one EXIF tag imghost keeps: Orientation, which says how to turn the pixels for display.
// Reads it from a TIFF structure (the body of every EXIF block) and writes a block holding only it.

const ORIENTATION = 0x0112;
const SHORT = 3;
const ENTRY = 12;

/** The most of an EXIF block read for its orientation: as much as a JPEG's EXIF segment can be. */
export const MAX_EXIF = 0xffff;

/** The Orientation (1-8) in IFD0 of `tiff`, or undefined when absent or unreadable. */
export function orientationOf(tiff: Buffer): number | undefined {
  if (tiff.length < 8) return undefined;
  const order = tiff.toString('latin1', 0, 2);
  if (order !== 'II' && order !== 'MM') return undefined;
  const little = order === 'II';
  const u16 = (pos: number) => (little ? tiff.readUInt16LE(pos) : tiff.readUInt16BE(pos));
  const u32 = (pos: number) => (little ? tiff.readUInt32LE(pos) : tiff.readUInt32BE(pos));
  if (u16(2) !== 42) return undefined;
  const ifd = u32(4);
  if (ifd + 2 > tiff.length) return undefined;
  const count = u16(ifd);
  for (let i = 0; i < count; i++) {
    const entry = ifd + 2 + i * ENTRY;
    if (entry + ENTRY > tiff.length) return undefined;
    if (u16(entry) === ORIENTATION && u16(entry + 2) === SHORT) {
      const value = u16(entry + 8);
      return value >= 1 && value <= 8 ? value : undefined;
    }
  }
  return undefined;
}

/** A big-endian TIFF structure whose IFD0 holds only `orientation`. */
export function orientationOnly(orientation: number): Buffer {
  const tiff = Buffer.alloc(8 + 2 + ENTRY + 4);
  tiff.write('MM', 0, 'latin1');
  tiff.writeUInt16BE(42, 2);
  tiff.writeUInt32BE(8, 4);
  tiff.writeUInt16BE(1, 8);
  tiff.writeUInt16BE(ORIENTATION, 10);
  tiff.writeUInt16BE(SHORT, 12);
  tiff.writeUInt32BE(1, 14);
  tiff.writeUInt16BE(orientation, 18);
  // Next IFD offset: 0, none (already zero).
  return tiff;
}

/** Whether the pixels need turning: only then is an orientation worth writing back. */
export const turns = (orientation: number | undefined): orientation is number => orientation !== undefined && orientation !== 1;
