// Chooses the metadata repository and blob store adapters named by the configuration.
import { resolve } from 'node:path';
import type { Config } from './config/options.js';
import { ConfigError } from './config/parse.js';
import type { ImageRepo } from './repo/index.js';
import { SqliteRepo } from './repo/sqlite.js';
import type { BlobStore } from './store/index.js';
import { FsStore } from './store/fs.js';

export type StorageOptions = Pick<Config,
  'data_dir' | 'db' | 'db_pool_size' | 'db_timeout' | 'store' | 'store_timeout' | 's3_endpoint' | 's3_region'
  | 's3_force_path_style' | 's3_access_key_id' | 's3_secret_access_key' | 's3_public_url'>;

export function dbUrl(opts: StorageOptions): string {
  return opts.db !== '' ? opts.db : `sqlite:${resolve(opts.data_dir, 'imghost.db')}`;
}

export function openRepo(opts: StorageOptions): Promise<ImageRepo> {
  const url = dbUrl(opts);
  if (url.startsWith('sqlite:')) return Promise.resolve(new SqliteRepo(url.slice('sqlite:'.length)));
  if (/^postgres(ql)?:\/\//i.test(url)) {
    // Loaded on demand: SQLite users never load pg.
    return import('./repo/postgres.js').then(({ PostgresRepo }) =>
      PostgresRepo.open(url, { poolSize: opts.db_pool_size, timeoutMs: opts.db_timeout * 1000 }));
  }
  throw new ConfigError(`option '--db': unsupported database '${url}' (expected sqlite:PATH or postgres://USER:PASSWORD@HOST:PORT/DBNAME)`);
}

export function openStore(opts: StorageOptions): Promise<BlobStore> {
  const location = opts.store !== '' ? opts.store : resolve(opts.data_dir, 'blobs');
  // Loaded on demand, so filesystem users never load the AWS SDK.
  if (location.startsWith('s3://')) return import('./store/s3.js').then(({ S3Store }) => S3Store.open(location, opts));
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location)) {
    throw new ConfigError(`option '--store': unsupported blob store '${location}' (expected a directory path or s3://bucket/prefix)`);
  }
  return new FsStore(resolve(location)).init();
}
