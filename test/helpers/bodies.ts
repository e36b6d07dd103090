// Request bodies sent in chunks without a Content-Length (Transfer-Encoding: chunked), as
// browsers and streaming clients do: fetch(url, { body: stream, duplex: 'half' }).
export const BOUNDARY = '----imghost-test-boundary-7d1f';

/** Streams `data` in chunks of `chunkSize`, then ends. */
export function chunked(data: Buffer, chunkSize = 16 * 1024): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= data.length) { controller.close(); return; }
      controller.enqueue(new Uint8Array(data.subarray(offset, offset + chunkSize)));
      offset += chunkSize;
    },
  }, { highWaterMark: 0 });
}

/**
 * Streams `data` in chunks, then stalls without ending, as a client whose connection hangs would:
 * the server is left waiting for the rest. Only the server answering early (or an abort) ends
 * such a request; and as the client is no longer writing when the server answers and closes,
 * the answer is always read rather than lost to EPIPE.
 */
export function stalled(data: Buffer, chunkSize = 16 * 1024): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= data.length) return new Promise<void>(() => undefined);
      controller.enqueue(new Uint8Array(data.subarray(offset, offset + chunkSize)));
      offset += chunkSize;
      return undefined;
    },
  }, { highWaterMark: 0 });
}

/** The opening of a multipart/form-data body up to the file's first byte. */
export function multipartHead({ field = 'file', filename = 'image.bin', type = 'application/octet-stream', boundary = BOUNDARY } = {}): Buffer {
  return Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="${field}"; filename="${filename}"\r\ncontent-type: ${type}\r\n\r\n`);
}

/** A multipart/form-data body with one file part, built by hand so it can be streamed or cut. */
export function multipartBody(file: Buffer, options: { field?: string; filename?: string; type?: string; boundary?: string } = {}): Buffer {
  return Buffer.concat([multipartHead(options), file, Buffer.from(`\r\n--${options.boundary ?? BOUNDARY}--\r\n`)]);
}

/** The RequestInit for a streamed body; `duplex: 'half'` is what fetch requires for one. */
export function streamedInit(body: ReadableStream<Uint8Array>, contentType: string, signal?: AbortSignal): RequestInit & { duplex: 'half' } {
  return { method: 'POST', body, duplex: 'half', headers: { 'content-type': contentType }, signal };
}
