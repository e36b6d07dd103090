// Counts the scans of a progressive JPEG without decoding it. Each scan makes libjpeg walk every
// block of the image again, and libvips cannot interrupt it meanwhile: a file of a few hundred
// kilobytes can hold thousands of scans and minutes of work. Encoders write about ten.
import { createReadStream } from 'node:fs';

const SOI = 0xd8;
const EOI = 0xd9;
const SOS = 0xda;
const isRestart = (code: number): boolean => code >= 0xd0 && code <= 0xd7;
/** Markers without a length: start of image, TEM and the restarts. */
const standalone = (code: number): boolean => code === SOI || code === 0x01 || isRestart(code);

/**
 * The number of scans (start-of-scan segments) in the JPEG file at `path`, read as a stream
 * and counted up to `stopAfter` + 1 at most. Whatever does not parse ends the count: the decoder
 * will refuse it.
 */
export async function countScans(path: string, stopAfter: number): Promise<number> {
  let scans = 0;
  /** Bytes still to pass before the next marker: the SOI, then each segment's payload. */
  let skip = 2;
  /** Inside entropy-coded data: until a 0xff that is neither stuffing (0xff00) nor a restart. */
  let entropy = false;
  /** The unread end of the last chunk: part of a marker cut by the chunk boundary. */
  let carried: Buffer = Buffer.alloc(0);
  const stream = createReadStream(path, { highWaterMark: 64 * 1024 });
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const data: Buffer = carried.length > 0 ? Buffer.concat([carried, chunk]) : chunk;
      let at = 0;
      while (at < data.length) {
        if (skip > 0) {
          const passed = Math.min(skip, data.length - at);
          skip -= passed;
          at += passed;
        } else if (entropy) {
          const mark = data.indexOf(0xff, at);
          if (mark === -1 || mark + 1 >= data.length) { at = mark === -1 ? data.length : mark; break; }
          const code = data[mark + 1] ?? 0;
          entropy = code === 0 || isRestart(code);
          at = entropy ? mark + 2 : mark;
        } else {
          if (data.length - at < 4) break;
          const code = data[at + 1] ?? 0;
          if (data[at] !== 0xff) {
            // libjpeg skips bytes that are not a marker (with a warning) to the next 0xff: so must the count.
            const mark = data.indexOf(0xff, at);
            at = mark === -1 ? data.length : mark;
            continue;
          }
          if (code === EOI) return scans;
          if (code === 0xff) { at += 1; continue; } // fill bytes before a marker
          if (standalone(code)) { at += 2; continue; }
          if (code === SOS && ++scans > stopAfter) return scans;
          entropy = code === SOS;
          skip = 2 + data.readUInt16BE(at + 2);
        }
      }
      carried = data.subarray(at);
    }
    return scans;
  } finally {
    stream.destroy();
  }
}
