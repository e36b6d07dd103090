// Backup and restore of the embedded library (SQLite + blob files), consistent while a server
// runs: the database is copied with SQLite's online backup API, then exactly the blobs the copy
// refers to (originals, thumbnails, variants) are hard-linked (or copied) beside it. A backup
// directory has a data directory's layout, so `imghost verify` and `imghost serve` open it as they
// are. Blobs go in before the database file appears, so an interrupted run never leaves a record
// without its bytes.
import Database from 'better-sqlite3';
import { copyFile, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import pLimit from 'p-limit';
import { fsyncPath, pathExists as exists } from './files.js';
import type { OpenMode } from './open-storage.js';
import { countProgress, type OnProgress } from './progress.js';
import { readyRecords, type VariantRecord } from './repo/index.js';
import { SqliteRepo } from './repo/sqlite.js';
import { FsStore } from './store/fs.js';

/** Where an embedded library keeps its parts. */
export interface EmbeddedLibrary {
  db: string;
  store: FsStore;
  /** The cookie signing key, when generated into the data directory. */
  secret: string;
}

/** A backup directory, laid out as a data directory; an `existing` one is only read. */
export async function backupDir(dir: string, mode: OpenMode): Promise<EmbeddedLibrary> {
  const store = await new FsStore(join(dir, 'blobs')).init({ create: mode === 'create' });
  return { db: join(dir, 'imghost.db'), store, secret: join(dir, 'secret') };
}

export interface CopyReport {
  images: number;
  /** Variant records carried with their blobs. */
  variants: number;
  /** Variants whose blob the source lacks: left out, to be made again on their next request. */
  variantsLeftOut: VariantRecord[];
  blobs: { linked: number; copied: number; present: number };
  /** Images deleted from the source while the copy ran: left out, as they would be a moment later. */
  deleted: string[];
  /** Images whose blobs the source lacks: left out, so the copy holds no record without its bytes. */
  damaged: { id: string; missing: string[] }[];
}

/** The latest date a Date can hold: every pending record is older. */
const LAST_DATE = new Date(8.64e15);

/** Hard links are cheap; this only lets copies across filesystems overlap. */
const BLOB_CONCURRENCY = 8;

/** Whether `target` already has a database or any blob, which a copy would replace or mix with. */
export async function holdsLibrary(target: EmbeddedLibrary): Promise<boolean> {
  if (await exists(target.db)) return true;
  for await (const _blob of target.store.list()) return true;
  return false;
}

/**
 * Copies the library `source` into `target`. `stillThere(id)` says whether an image of the
 * snapshot still exists in the source: for a live source, a blob that vanished since the
 * snapshot belongs to an image deleted meanwhile, which is not damage.
 */
export async function copyLibrary(source: EmbeddedLibrary, target: EmbeddedLibrary,
  stillThere: (id: string) => Promise<boolean>, onProgress: OnProgress = () => undefined): Promise<CopyReport> {
  const staging = `${target.db}.partial`;
  await removeDatabase(staging);
  await snapshotDatabase(source.db, staging);
  const report: CopyReport = { images: 0, variants: 0, variantsLeftOut: [], blobs: { linked: 0, copied: 0, present: 0 }, deleted: [], damaged: [] };
  const snapshot = new SqliteRepo(staging);
  try {
    // Uploads in flight at the snapshot are not part of it: they had not been answered yet.
    for (const pending of await snapshot.stalePending(LAST_DATE)) await snapshot.remove(pending.id);
    const missing = await copyBlobs(await snapshot.referencedHashes(), source.store, target.store, report, onProgress);
    const originals = new Set<string>();
    for (const record of await readyRecords(snapshot)) {
      const lacking = [record.orig.hash, record.thumb.hash].filter((hash) => missing.has(hash));
      if (lacking.length === 0) {
        report.images++;
        originals.add(record.orig.hash);
        continue;
      }
      await snapshot.remove(record.id);
      if (await stillThere(record.id)) report.damaged.push({ id: record.id, missing: lacking });
      else report.deleted.push(record.id);
    }
    await keepWholeVariants(snapshot, originals, missing, report);
  } finally {
    await snapshot.close();
  }
  await seal(staging);
  await install(staging, target.db);
  if (await exists(source.secret) && !(await exists(target.secret))) await copyFile(source.secret, target.secret);
  return report;
}

/**
 * Leaves in the copy only the variants of the images it holds whose blobs were copied: a variant
 * is derived, so one left out is made again on its next request rather than damage.
 */
async function keepWholeVariants(snapshot: SqliteRepo, originals: Set<string>, missing: Set<string>, report: CopyReport): Promise<void> {
  await snapshot.removeOrphanVariants();
  for (const origHash of originals) {
    for (const variant of await snapshot.variantsOf(origHash)) {
      if (!missing.has(variant.hash)) { report.variants++; continue; }
      await snapshot.removeVariant(variant.origHash, variant.spec, variant.hash);
      report.variantsLeftOut.push(variant);
    }
  }
}

/** Links or copies each blob into `to`; returns the keys `from` lacks. */
async function copyBlobs(keys: Set<string>, from: FsStore, to: FsStore, report: CopyReport,
  onProgress: OnProgress): Promise<Set<string>> {
  const missing = new Set<string>();
  const limit = pLimit(BLOB_CONCURRENCY);
  const oneDone = countProgress(keys.size, onProgress);
  await Promise.all([...keys].map((key) => limit(async () => {
    try {
      if (await to.has(key)) report.blobs.present++;
      else report.blobs[await to.adopt(key, from)]++;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      missing.add(key);
    }
    oneDone();
  })));
  return missing;
}

/** A consistent copy of a database another process may be writing to; the source is only read. */
async function snapshotDatabase(source: string, dest: string): Promise<void> {
  const db = new Database(source, { readonly: true, fileMustExist: true });
  try {
    // All pages in one step, under one read transaction: in small steps the backup restarts
    // whenever the server writes, and might never finish while uploads keep coming.
    await db.backup(dest, { progress: () => 0x7fffffff });
  } finally {
    db.close();
  }
}

/** Makes the copy one self-contained file (rollback journal, not WAL); the server turns WAL back on. */
async function seal(path: string): Promise<void> {
  const db = new Database(path, { fileMustExist: true });
  try {
    db.pragma('journal_mode = DELETE');
  } finally {
    db.close();
  }
  await fsyncPath(path);
}

/** Puts the sealed copy in place of `target`, whose journal files go first: SQLite would replay them into the copy. */
async function install(staging: string, target: string): Promise<void> {
  await removeDatabase(target, false);
  await rename(staging, target);
  await fsyncPath(dirname(target));
}

async function removeDatabase(path: string, withMainFile = true): Promise<void> {
  for (const suffix of ['-wal', '-shm', '-journal', ...(withMainFile ? [''] : [])]) await rm(`${path}${suffix}`, { force: true });
}
