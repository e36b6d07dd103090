// Streams an immutable blob with HTTP caching and byte ranges: strong ETag (the content hash),
// 304 on If-None-Match / If-Modified-Since, 206 for one range, 416 for unsatisfiable ones.
import type { FastifyReply, FastifyRequest } from 'fastify';
import parseRange from 'range-parser';
import type { Readable } from 'node:stream';
import type { ByteRange } from '../store/index.js';
import type { SmallBlobCache } from './blob-cache.js';

export interface BlobResponse {
  hash: string;
  bytes: number;
  mime: string;
  modified: Date;
  open: (range?: ByteRange) => Promise<Readable>;
  /** Cache-Control when not the default of an immutable blob (an image that expires or counts its views). */
  cacheControl?: string;
  /** Called just before the body is read, once nothing else can refuse the request; may refuse it (a view limit). */
  admit?: () => Promise<void>;
  /** With --accel_redirect: the internal URI nginx sends the blob from, and serves ranges of. */
  accel?: string;
}

/** Sends the blob; one small enough for `cache` is answered from memory once read. */
export async function sendBlob(request: FastifyRequest, reply: FastifyReply, blob: BlobResponse, cache?: SmallBlobCache): Promise<void> {
  const etag = `"${blob.hash}"`;
  reply.headers({
    'content-type': blob.mime,
    etag,
    'last-modified': blob.modified.toUTCString(),
    'cache-control': blob.cacheControl ?? 'public, max-age=31536000, immutable',
    'accept-ranges': 'bytes',
    // An image response is never a document: no scripts even if a browser were fooled.
    'content-security-policy': "default-src 'none'; sandbox",
  });
  if (notModified(request, etag, blob.modified)) {
    await reply.code(304).send();
    return;
  }
  const range = requestedRange(request, etag, blob.bytes);
  if (range === 'unsatisfiable') {
    await reply.code(416).header('content-range', `bytes */${String(blob.bytes)}`).type('text/plain').send('range not satisfiable');
    return;
  }
  if (blob.accel !== undefined && request.method === 'GET') {
    await blob.admit?.();
    await reply.header('x-accel-redirect', blob.accel).send();
    return;
  }
  // The body is had before the status and length are set: a blob found missing here leaves the
  // reply as it was, for the caller to try again or answer an error.
  if (request.method === 'GET') await blob.admit?.();
  const body = request.method === 'HEAD' || blob.bytes === 0 ? undefined : await openBody(blob, range, cache);
  if (range) {
    reply.code(206).header('content-range', `bytes ${String(range.start)}-${String(range.end)}/${String(blob.bytes)}`);
  }
  reply.header('content-length', range ? range.end - range.start + 1 : blob.bytes);
  await reply.send(body);
}

async function openBody(blob: BlobResponse, range: ByteRange | null, cache: SmallBlobCache | undefined): Promise<Buffer | Readable> {
  if (!cache?.fits(blob.bytes)) return blob.open(range ?? undefined);
  const data = await cache.read(blob);
  return range ? data.subarray(range.start, range.end + 1) : data;
}

function notModified(request: FastifyRequest, etag: string, modified: Date): boolean {
  const inm = request.headers['if-none-match'];
  if (inm !== undefined) return inm.split(',').some((t) => { const tag = t.trim().replace(/^W\//, ''); return tag === etag || tag === '*'; });
  const ims = request.headers['if-modified-since'];
  if (ims === undefined) return false;
  const since = Date.parse(ims);
  return !Number.isNaN(since) && Math.floor(modified.getTime() / 1000) <= Math.floor(since / 1000);
}

/** The one range to send, null for the whole blob. Several ranges are answered with the whole blob. */
function requestedRange(request: FastifyRequest, etag: string, size: number): ByteRange | null | 'unsatisfiable' {
  const header = request.headers.range;
  if (header === undefined || (request.method !== 'GET' && request.method !== 'HEAD')) return null;
  const ifRange = request.headers['if-range'];
  if (ifRange !== undefined && ifRange !== etag) return null;
  const ranges = parseRange(size, header, { combine: true });
  if (ranges === -1) return 'unsatisfiable';
  if (ranges === -2 || ranges.type !== 'bytes' || ranges.length !== 1) return null;
  const [first] = ranges;
  return first ? { start: first.start, end: first.end } : null;
}
