// --accel_redirect: behind nginx, imghost still decides an image file's status and headers (and
// counts its views), but answers with X-Accel-Redirect and no body; nginx then sends the file
// from the blob directory with sendfile, and serves byte ranges of it itself. Only blobs larger
// than imghost keeps in memory: a small one (a thumbnail) is answered from memory and then kept
// in nginx's cache, so its repeated GETs never reach imghost, where a redirect, never cached by
// nginx, would bring every one of them here.
import { ConfigError } from '../errors.js';
import type { Library } from '../library.js';
import { SMALL_BLOB } from './blob-cache.js';

/** The internal URI nginx sends a blob from, or undefined when imghost sends it itself. */
export type AccelTarget = (blob: { hash: string; bytes: number }) => string | undefined;

export function accelTarget(prefix: string, library: Pick<Library, 'localPath'>): AccelTarget {
  if (prefix === '') return () => undefined;
  if (!/^\/(?:[\w.-]+\/)+$/.test(prefix)) {
    throw new ConfigError(`option '--accel_redirect': '${prefix}' is not an internal location such as /internal/`);
  }
  if (library.localPath('0'.repeat(64)) === null) {
    throw new ConfigError("option '--accel_redirect' needs the file store: an S3 store keeps no files for nginx to send");
  }
  return ({ hash, bytes }) => (bytes > SMALL_BLOB ? `${prefix}${library.localPath(hash) ?? ''}` : undefined);
}
