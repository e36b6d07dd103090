// Reads the files of an upload request as streams, never buffering them: either the `file`
// parts of a multipart/form-data body or a raw body with an image content type.
import type { FastifyRequest } from 'fastify';
import { Readable } from 'node:stream';
import { BadFileName, BadRequest, UnsupportedBody } from '../errors.js';

export interface UploadedFile { stream: Readable; filename: string | null }

/** Content types accepted as a raw image body (their parser hands the stream through). */
export const rawBodyTypes = /^(?:image\/[\w.+-]+|application\/octet-stream)\s*(?:;|$)/i;

/**
 * Yields each uploaded file in order; multipart fields met on the way are collected in `fields`
 * so a caller can check a CSRF token before it reads a file.
 */
export async function* uploadedFiles(request: FastifyRequest, fields: Record<string, string> = {}): AsyncGenerator<UploadedFile> {
  const contentType = request.headers['content-type'];
  if (contentType === undefined) return;
  if (!request.isMultipart()) {
    if (!(request.body instanceof Readable)) throw new UnsupportedBody(contentType);
    const { name } = request.query as { name?: unknown };
    yield { stream: request.body, filename: typeof name === 'string' ? fileName(name) : null };
    return;
  }
  try {
    for await (const part of request.parts()) {
      if (part.type === 'field') {
        fields[part.fieldname] = typeof part.value === 'string' ? part.value : '';
      } else if (part.fieldname === 'file') {
        // A body that ends inside the file fails the file stream, not this loop: mark it too.
        part.file.on('error', markMalformed);
        yield { stream: part.file, filename: fileName(part.filename) };
      } else {
        part.file.resume();
      }
    }
  } catch (err) {
    if (!isParserError(err)) throw err;
    throw new BadRequest(`malformed multipart body: ${err.message}`);
  }
}

/** Longest file name kept (UTF-16 units, as Windows counts them): a name is only ever displayed. */
const MAX_NAME = 255;

/** The client's file name, or null for none; refused when no real file could be called that. */
function fileName(name: string): string | null {
  if (name === '') return null;
  if (name.length > MAX_NAME) throw new BadFileName(`is longer than ${String(MAX_NAME)} characters`);
  // NUL cannot be stored in PostgreSQL text, and the other control characters only garble pages and logs.
  if (/\p{Cc}/u.test(name)) throw new BadFileName('contains control characters');
  return name;
}

/** The multipart parser's own errors carry no status or errno: the body was malformed. */
function isParserError(err: unknown): err is Error {
  const { statusCode, code } = err as { statusCode?: unknown; code?: unknown };
  return err instanceof Error && statusCode === undefined && code === undefined;
}

/** Makes a parser error reach the error handler as a 400, as the same error from the loop would. */
function markMalformed(err: unknown): void {
  if (isParserError(err)) Object.assign(err, { statusCode: 400, message: `malformed multipart body: ${err.message}` });
}
