// Failures of the server and its setting rather than of the client: a bad configuration, a dependency
// that is down, storage that is full or read-only, exhausted resources, too much work at once. Each
// answer tells the client whether to retry; those marked `damage` are logged for the operator.
import { AppError } from './app-error.js';

/** A bad option or an unusable storage location given by the operator: reported as one line, exit code 2. */
export class ConfigError extends Error {}

/** A dependency (database, object store) failed or timed out: the client may retry. */
export class Unavailable extends AppError {
  override readonly damage = true;
  constructor(dependency: 'db' | 'store', detail: string) {
    super(503, 'UNAVAILABLE', `the ${dependency === 'db' ? 'database' : 'object store'} is unavailable: ${detail}`, { 'retry-after': '5' });
  }
}

export class Busy extends AppError {
  /** `doing`: what the server is busy with: making images (thumbnails, variants) unless said. */
  constructor(retryAfterSeconds: number, doing = 'making images') {
    super(503, 'BUSY', `the server is busy ${doing}; retry shortly`, { 'retry-after': String(retryAfterSeconds) });
  }
}

// What the server lacks, as the storage adapters report it: an operator must act, so these are
// logged as errors. `error` in the answer names the system's own code (ENOSPC, SQLITE_FULL, ...).

export class StorageFull extends AppError {
  override readonly damage = true;
  constructor(code: string) { super(507, code, 'the server has no storage space left'); }
}

export class StorageReadOnly extends AppError {
  override readonly damage = true;
  constructor(code: string) { super(503, code, 'the server storage is read-only'); }
}

/** The data directory's permissions changed under the server. */
export class StorageNotWritable extends AppError {
  override readonly damage = true;
  constructor(code: string) { super(503, code, 'the server storage is not writable'); }
}

/** Out of file descriptors, memory or processes: the condition passes once other requests finish. */
export class OutOfResources extends AppError {
  override readonly damage = true;
  constructor(code: string) {
    super(503, code, 'the server is out of resources for the moment; retry shortly', { 'retry-after': '5' });
  }
}

type Catalogued = new (code: string) => AppError;
// fork/spawn or a thread that cannot be made now is EAGAIN (a non-blocking read's never surfaces).
const exhaustion: Readonly<Record<string, Catalogued>> = {
  EMFILE: OutOfResources, ENFILE: OutOfResources, ENOMEM: OutOfResources, ENOBUFS: OutOfResources, EAGAIN: OutOfResources,
};
// SQLite reports the same conditions with its own codes, extended ones after a second '_'.
const storage: Readonly<Record<string, Catalogued>> = {
  ...exhaustion,
  ENOSPC: StorageFull, EDQUOT: StorageFull, SQLITE_FULL: StorageFull,
  EROFS: StorageReadOnly, SQLITE_READONLY: StorageReadOnly,
  EACCES: StorageNotWritable,
  SQLITE_NOMEM: OutOfResources, SQLITE_CANTOPEN: OutOfResources,
};

function catalogue<E>(err: E, table: Readonly<Record<string, Catalogued>>): E | AppError {
  const { code } = (err ?? {}) as { code?: unknown };
  if (err instanceof AppError || typeof code !== 'string') return err;
  const Known = table[code] ?? table[code.replace(/^(SQLITE_[A-Z]+)_.*$/, '$1')];
  if (Known === undefined) return err;
  return Object.assign(new Known(code), { cause: err });
}

/** For storage adapters: a full, read-only or exhausted storage as its catalogue error; anything else as it was. */
export const storageFailure = <E>(err: E): E | AppError => catalogue(err, storage);

/** Running out of descriptors or memory can happen anywhere: its catalogue error, or the error as it was. */
export const resourceFailure = <E>(err: E): E | AppError => catalogue(err, exhaustion);
