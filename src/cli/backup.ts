// `imghost backup --to DIR` and `imghost restore --from DIR`: a consistent copy of the embedded
// library, taken while the server runs, and putting one back into an empty data directory.
// PostgreSQL and S3 have their own tools for this (pg_dump, bucket versioning): see docs/reliability.md.
import { join, resolve } from 'node:path';
import { backupDir, copyLibrary, holdsLibrary, type CopyReport, type EmbeddedLibrary } from '../backup.js';
import type { Config } from '../config/options.js';
import type { Invocation } from '../config/parse.js';
import { ConfigError } from '../errors.js';
import { pathExists } from '../files.js';
import { dbUrl, openRepo, openStore, requireLibrary, type OpenMode } from '../open-storage.js';
import { FsStore } from '../store/fs.js';
import { progressReporter } from './progress.js';

const notEmbedded = (): ConfigError => new ConfigError('backup and restore cover the embedded storage (SQLite and a blob '
  + 'directory); for PostgreSQL and S3 use pg_dump and bucket versioning or replication (see docs/reliability.md)');

/** The library the options name, which must be the embedded one. */
async function configuredLibrary(config: Config, mode: OpenMode): Promise<EmbeddedLibrary> {
  const url = dbUrl(config);
  if (!url.startsWith('sqlite:')) throw notEmbedded();
  const db = resolve(url.slice('sqlite:'.length));
  if (mode === 'existing') await requireLibrary(config);
  const store = await openStore(config, mode);
  if (!(store instanceof FsStore)) throw notEmbedded();
  return { db, store, secret: resolve(config.data_dir, 'secret') };
}

/** Refuses to copy a library onto itself, or over another one unless --force. */
async function checkTarget(source: EmbeddedLibrary, target: EmbeddedLibrary, where: string, force: boolean): Promise<void> {
  if (source.db === target.db) throw new ConfigError(`${where} is the library itself`);
  if (!force && await holdsLibrary(target)) {
    throw new ConfigError(`${where} already holds a library; stop any server using it and pass --force to replace its database`);
  }
}

function printReport(report: CopyReport, summary: string): number {
  for (const id of report.deleted) process.stdout.write(`left out ${id}: deleted while the copy ran\n`);
  for (const { id, missing } of report.damaged) process.stdout.write(`damaged ${id}: left out, the source lacks blob ${missing.join(' and ')}\n`);
  for (const { spec, hash } of report.variantsLeftOut) {
    process.stdout.write(`left out variant ${spec} ${hash}: the source lacks its blob; it is made again on its next request\n`);
  }
  const { linked, copied, present } = report.blobs;
  process.stdout.write(`${summary}: ${String(report.images)} images, ${String(report.variants)} variants, ${String(linked + copied + present)} blobs `
    + `(${String(linked)} hard-linked, ${String(copied)} copied, ${String(present)} already there)`
    + `${report.damaged.length > 0 ? `, ${String(report.damaged.length)} damaged images left out` : ''}\n`);
  return report.damaged.length === 0 ? 0 : 1;
}

export async function backup({ config }: Invocation): Promise<number> {
  if (config.to === '') throw new ConfigError('give --to, the directory to write the backup into');
  const source = await configuredLibrary(config, 'existing');
  const target = await backupDir(resolve(config.to), 'create');
  await checkTarget(source, target, config.to, config.force);
  const live = await openRepo(config, 'existing');
  try {
    const progress = progressReporter('blobs');
    const report = await copyLibrary(source, target, async (id) => (await live.get(id)) !== null, progress.update)
      .finally(progress.stop);
    return printReport(report, `backup into ${config.to}`);
  } finally {
    await live.close();
  }
}

export async function restore({ config }: Invocation): Promise<number> {
  if (config.from === '') throw new ConfigError('give --from, the backup directory to restore');
  const from = resolve(config.from);
  if (!(await pathExists(join(from, 'imghost.db')))) {
    throw new ConfigError(`${config.from} is not an imghost backup: it has no imghost.db`);
  }
  const source = await backupDir(from, 'existing');
  const target = await configuredLibrary(config, 'create');
  await checkTarget(source, target, config.data_dir, config.force);
  const progress = progressReporter('blobs');
  // A backup is not written to: a blob it lacks is damage, never a deletion.
  const report = await copyLibrary(source, target, () => Promise.resolve(true), progress.update).finally(progress.stop);
  return printReport(report, `restore into ${config.data_dir}`);
}
