// Chooses the metadata repository and blob store adapters named by the configuration.
// `serve` and a copy's destination create what is missing; every command that reads a library
// opens it as `existing`, so a mistyped path is refused instead of read as an empty library.
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Config } from './config/options.js';
import { ConfigError } from './errors.js';
import type { ImageRepo } from './repo/index.js';
import { SqliteRepo } from './repo/sqlite.js';
import type { BlobStore } from './store/index.js';
import { FsStore } from './store/fs.js';

export type StorageOptions = Pick<Config,
  'data_dir' | 'db' | 'db_pool_size' | 'db_timeout' | 'store' | 'store_timeout' | 's3_endpoint' | 's3_region'
  | 's3_force_path_style' | 's3_access_key_id' | 's3_secret_access_key' | 's3_public_url'>;

/** `create`: make what is missing (the server, a copy's destination); `existing`: refuse what is not there. */
export type OpenMode = 'create' | 'existing';

export function dbUrl(opts: StorageOptions): string {
  return opts.db !== '' ? opts.db : `sqlite:${resolve(opts.data_dir, 'imghost.db')}`;
}

function storeLocation(opts: StorageOptions): string {
  return opts.store !== '' ? opts.store : resolve(opts.data_dir, 'blobs');
}

/** The SQLite file a database URL names, or null for PostgreSQL; any other URL is refused. */
function sqliteFile(url: string): string | null {
  if (url.startsWith('sqlite:')) return resolve(url.slice('sqlite:'.length));
  if (/^postgres(ql)?:\/\//i.test(url)) return null;
  throw new ConfigError(`option '--db': unsupported database '${url}' (expected sqlite:PATH or postgres://USER:PASSWORD@HOST:PORT/DBNAME)`);
}

/** The directory a blob store location names, or null for S3; any other URL is refused. */
function storeDirectory(location: string): string | null {
  if (location.startsWith('s3://')) return null;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location)) {
    throw new ConfigError(`option '--store': unsupported blob store '${location}' (expected a directory path or s3://bucket/prefix)`);
  }
  return resolve(location);
}

/** Fails with a one-line ConfigError unless `path` is there and of the expected kind. */
async function mustExist(path: string, kind: 'file' | 'directory', what: string): Promise<void> {
  const info = await stat(path).catch((err: unknown) => {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
    throw err;
  });
  if (!info) throw new ConfigError(`there is no ${what} at ${path}`);
  if (kind === 'file' ? !info.isFile() : !info.isDirectory()) throw new ConfigError(`there is no ${what} at ${path}: it is not a ${kind}`);
}

export async function openRepo(opts: StorageOptions, mode: OpenMode = 'create'): Promise<ImageRepo> {
  const url = dbUrl(opts);
  const path = sqliteFile(url);
  if (path !== null) {
    if (mode === 'existing') await mustExist(path, 'file', 'library database');
    return new SqliteRepo(path, { create: mode === 'create' });
  }
  // Loaded on demand: SQLite users never load pg.
  const { PostgresRepo } = await import('./repo/postgres.js');
  return PostgresRepo.open(url, { poolSize: opts.db_pool_size, timeoutMs: opts.db_timeout * 1000 });
}

export async function openStore(opts: StorageOptions, mode: OpenMode = 'create'): Promise<BlobStore> {
  const location = storeLocation(opts);
  const root = storeDirectory(location);
  if (root !== null) {
    if (mode === 'existing') await mustExist(root, 'directory', 'blob store');
    return new FsStore(root).init({ create: mode === 'create' });
  }
  // Loaded on demand, so filesystem users never load the AWS SDK.
  const store = await (await import('./store/s3.js')).S3Store.open(location, opts);
  // A bucket is never created: an existing one is checked before anything else is done.
  if (mode === 'existing') await store.ping();
  return store;
}

/** Refuses an embedded library that is not there, before a command that opens it whole (gc) could create it. */
export async function requireLibrary(opts: StorageOptions): Promise<void> {
  const db = sqliteFile(dbUrl(opts));
  const root = storeDirectory(storeLocation(opts));
  if (db !== null) await mustExist(db, 'file', 'library database');
  if (root !== null) await mustExist(root, 'directory', 'blob store');
}
