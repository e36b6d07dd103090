// Byte-level JPEG edits that keep the image valid and its pixels unchanged: COM (comment) and
// other marker segments inserted after the SOI marker.

const SOI_LENGTH = 2;
/** Marker (2) + length field (2) of a segment; the length field counts itself but not the marker. */
const SEGMENT_OVERHEAD = 4;
const MAX_SEGMENT = 0xffff - 2 + SEGMENT_OVERHEAD;

/** One segment: `marker` (e.g. 0xffe1 for APP1) and up to 65533 bytes of payload. */
export function segment(marker: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(SEGMENT_OVERHEAD);
  header.writeUInt16BE(marker, 0);
  header.writeUInt16BE(payload.length + 2, 2);
  return Buffer.concat([header, payload]);
}

const comment = (payload: Buffer): Buffer => segment(0xfffe, payload);

/** `segments` inserted right after the SOI marker. */
export function withSegments(jpeg: Buffer, segments: Buffer[]): Buffer {
  if (jpeg.readUInt16BE(0) !== 0xffd8) throw new Error('not a JPEG');
  return Buffer.concat([jpeg.subarray(0, SOI_LENGTH), ...segments, jpeg.subarray(SOI_LENGTH)]);
}

/** The same picture with different bytes (and so a different SHA-256) for each `label`. */
export function jpegVariant(jpeg: Buffer, label: string): Buffer {
  return withSegments(jpeg, [comment(Buffer.from(label))]);
}

/** The same picture padded with comments to exactly `size` bytes. */
export function jpegOfSize(jpeg: Buffer, size: number): Buffer {
  let rest = size - jpeg.length;
  if (rest < SEGMENT_OVERHEAD && rest !== 0) throw new Error(`cannot pad ${String(jpeg.length)} bytes to ${String(size)}`);
  const segments: Buffer[] = [];
  while (rest > 0) {
    let take = Math.min(rest, MAX_SEGMENT);
    // Never leave a remainder too small to be a segment of its own.
    if (rest - take > 0 && rest - take < SEGMENT_OVERHEAD) take -= SEGMENT_OVERHEAD;
    segments.push(comment(Buffer.alloc(take - SEGMENT_OVERHEAD, 0x20)));
    rest -= take;
  }
  const padded = withSegments(jpeg, segments);
  if (padded.length !== size) throw new Error(`padded to ${String(padded.length)}, wanted ${String(size)}`);
  return padded;
}
