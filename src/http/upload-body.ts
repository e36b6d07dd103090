// The upload routes' one way in: reads the files of an upload request as streams, never
// buffering them (the `file` parts of a multipart/form-data body, or a raw body with an image
// content type), and hands each to the library as it arrives. A route says how many files it
// takes in its `files` setting, which also bounds the body it may announce.
import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import { Readable } from 'node:stream';
import { BadFileName, BadRequest, MissingFile, TooLarge, TooManyFiles, UnsupportedBody } from '../errors.js';
import type { Sender, UploadedFile } from '../ingest.js';
import type { Library } from '../library.js';
import { DEFAULT_TERMS } from '../repo/index.js';
import type { UploadAuth } from './auth.js';
import type { Presenter, UploadedJson } from './present.js';
import { uploadSender } from './sender.js';
import { isTermField, parseUploadTerms, TERM_FIELDS } from './upload-terms.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Files the route takes in one request; one for a route that does not say. */
    files?: number;
  }
}

/** Content types accepted as a raw image body (their parser hands the stream through). */
export const rawBodyTypes = /^(?:image\/[\w.+-]+|application\/octet-stream)\s*(?:;|$)/i;

/** Room for multipart boundaries, part headers and small fields around the files. */
const MULTIPART_OVERHEAD = 64 * 1024;

const filesOf = (request: FastifyRequest): number => request.routeOptions.config.files ?? 1;

/** Refuses a POST whose body announces more than its route's files may be, before reading any of it. */
export function refuseOversizeBodies(maxUploadSize: number): onRequestHookHandler {
  return (request, _reply, done) => {
    const length = Number(request.headers['content-length'] ?? 0);
    const multipart = request.headers['content-type']?.startsWith('multipart/') ?? false;
    const tooLarge = request.method === 'POST' && length > maxUploadSize * filesOf(request) + (multipart ? MULTIPART_OVERHEAD : 0);
    done(tooLarge ? new TooLarge(maxUploadSize) : undefined);
  };
}

/** Checks a form's fields (a CSRF token, an upload token): before each file is read, and after the body. */
export type FieldCheck = (fields: Readonly<Record<string, string>>) => void | Promise<void>;

/** Has the library store each file of the request as it arrives, logging each; MissingFile when there is none. */
export async function storeUploads(
  request: FastifyRequest, reply: FastifyReply, library: Library, present: Presenter, auth: Pick<UploadAuth, 'uploader'>,
  check: FieldCheck = () => undefined,
): Promise<[UploadedJson, ...UploadedJson[]]> {
  const stored: UploadedJson[] = [];
  const base = present.base(request);
  const sender: Sender = { ...uploadSender(request, reply), terms: library.defaultTerms };
  // Who uploads is known once the check passed (a form's key is one of its fields): before the first file.
  const owned: FieldCheck = async (fields) => {
    await check(fields);
    sender.terms = { ...(sender.terms ?? DEFAULT_TERMS), owner: auth.uploader(request) };
  };
  for (const { image, deleteToken } of await library.upload(checkedFiles(request, owned, sender), sender)) {
    request.log.info({ id: image.id, bytes: image.orig.bytes, format: image.format }, 'image uploaded');
    stored.push(present.uploaded(image, deleteToken, base));
  }
  const [first, ...rest] = stored;
  if (first === undefined) throw new MissingFile();
  return [first, ...rest];
}

/**
 * The request's files, checked as they come, with the sender's terms (upload-terms.ts) set from
 * the query and the fields before the first file. A route of one file reads past it only for a
 * late field, discarding further files; one of several refuses a file past its count
 * (TooManyFiles) rather than drop it unsaid.
 */
async function* checkedFiles(request: FastifyRequest, check: FieldCheck, sender: Sender): AsyncGenerator<UploadedFile> {
  const fields: Record<string, string> = {};
  const files = filesOf(request);
  let taken = 0;
  for await (const file of uploadedFiles(request, fields, files === 1)) {
    if (taken === files) throw new TooManyFiles(files);
    await check(fields);
    if (taken === 0) sender.terms = { ...(sender.terms ?? DEFAULT_TERMS), ...parseUploadTerms(termsGiven(request, fields), new Date()) };
    yield file;
    taken++;
  }
  await check(fields);
}

/** The terms of the query and of the fields; one given in both is refused rather than one of them chosen. */
function termsGiven(request: FastifyRequest, fields: Readonly<Record<string, string>>): Partial<Record<string, string>> {
  const query = request.query as Partial<Record<string, unknown>>;
  const given: Partial<Record<string, string>> = {};
  for (const name of TERM_FIELDS) {
    const [asked, field] = [query[name], fields[name]];
    if (asked !== undefined && field !== undefined) throw new BadRequest(`'${name}' is given both in the URL and in the form`);
    if (asked !== undefined && typeof asked !== 'string') throw new BadRequest(`'${name}' is given more than once`);
    given[name] = asked ?? field;
  }
  return given;
}

/**
 * Yields each uploaded file in order; multipart fields met on the way are collected in `fields`.
 * The terms fields must come before the first file (browsers send fields in form order), so
 * every file of a request is stored on the same terms: one after a file is refused. With
 * `firstOnly`, later files are read and discarded, so a terms field after them is not missed.
 */
async function* uploadedFiles(request: FastifyRequest, fields: Record<string, string>, firstOnly: boolean): AsyncGenerator<UploadedFile> {
  const contentType = request.headers['content-type'];
  if (contentType === undefined) return;
  if (!request.isMultipart()) {
    if (!(request.body instanceof Readable)) throw new UnsupportedBody(contentType);
    const { name } = request.query as { name?: unknown };
    yield { stream: request.body, filename: typeof name === 'string' ? fileName(name) : null };
    return;
  }
  let filesSeen = 0;
  try {
    for await (const part of request.parts()) {
      if (part.type === 'field') {
        if (filesSeen > 0 && isTermField(part.fieldname)) {
          throw new BadRequest(`the '${part.fieldname}' field must come before the file in the form`);
        }
        fields[part.fieldname] = typeof part.value === 'string' ? part.value : '';
      } else if (part.fieldname === 'file' && !(firstOnly && filesSeen > 0)) {
        filesSeen++;
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
