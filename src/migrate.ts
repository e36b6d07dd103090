// Copying a library between stores, so a user can grow from the embedded default (files,
// SQLite) to an object store and PostgreSQL without losing an image. Both copies are resumable:
// what the destination already holds is skipped, so an interrupted run is simply run again.
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import pLimit from 'p-limit';
import { ConfigError } from './errors.js';
import { HashingStream } from './hash.js';
import { uniqueSuffix } from './ids.js';
import { mimeOf } from './images/probe.js';
import { countProgress, type OnProgress } from './progress.js';
import { readyRecords, type ImageRecord, type ImageRepo } from './repo/index.js';
import type { BlobStore } from './store/index.js';

export interface StoreMigration { copied: number; skipped: number; failed: { key: string; reason: string }[] }

/**
 * Copies every blob of `from` missing in `to`, `concurrency` at a time, checking that each
 * copy's SHA-256 matches its key before the destination sees it.
 */
export async function migrateStore(from: BlobStore, to: BlobStore, concurrency: number,
  onProgress: OnProgress = () => undefined): Promise<StoreMigration> {
  const keys: string[] = [];
  for await (const blob of from.list()) keys.push(blob.key);
  const result: StoreMigration = { copied: 0, skipped: 0, failed: [] };
  const spool = await mkdtemp(join(tmpdir(), 'imghost-migrate-'));
  const limit = pLimit(concurrency);
  const oneDone = countProgress(keys.length, onProgress);
  try {
    await Promise.all(keys.map((key) => limit(async () => {
      try {
        if (await to.has(key)) result.skipped++;
        else {
          await copyBlob(from, to, key, spool);
          result.copied++;
        }
      } catch (err) {
        result.failed.push({ key, reason: err instanceof Error ? err.message : String(err) });
      }
      oneDone();
    })));
  } finally {
    await rm(spool, { recursive: true, force: true });
  }
  return result;
}

async function copyBlob(from: BlobStore, to: BlobStore, key: string, spool: string): Promise<void> {
  const path = join(spool, `${key}.${uniqueSuffix(4)}`);
  const hasher = new HashingStream();
  try {
    await pipeline(await from.read(key), hasher, createWriteStream(path));
    const actual = hasher.sha256();
    if (actual !== key) throw new Error(`content hash ${actual} does not match the key: the source blob is damaged`);
    // Blobs carry no type of their own: read it from the header, for stores that keep it (S3).
    await to.put(key, { path }, await mimeOf(path));
  } finally {
    await unlink(path).catch(() => undefined);
  }
}

export interface DbMigration {
  copied: number;
  skipped: number;
  variants: { copied: number; skipped: number };
  /** Takedowns in force, with the ids they removed; and entries of the audit log. */
  takedowns: { copied: number; skipped: number; logEntries: number };
  /** Users and API keys copied (those already there are left as they are). */
  accounts: { users: number; keys: number };
  /** Images the expiry sweep had removed, recorded so their links keep answering 410. */
  ended: number;
}

/**
 * Copies every ready image record of `from` missing in `to`, oldest first, so the order is kept,
 * and the variant records of their originals (the blobs are migrate-store's), so the destination
 * serves the variants already made without encoding them again.
 */
export async function migrateDb(from: ImageRepo, to: ImageRepo,
  onProgress: OnProgress = () => undefined): Promise<DbMigration> {
  const records = (await readyRecords(from)).reverse();
  const result: DbMigration = {
    copied: 0, skipped: 0, variants: { copied: 0, skipped: 0 }, takedowns: { copied: 0, skipped: 0, logEntries: 0 }, accounts: { users: 0, keys: 0 }, ended: 0,
  };
  // Before the records: an owned record names its owner.
  await copyAccounts(from, to, result.accounts);
  const originals = new Set<string>();
  const oneDone = countProgress(records.length, onProgress);
  for (const record of records) {
    if (await to.get(record.id)) {
      // The source may have served views since an earlier run.
      await carryViews(from, to, record);
      result.skipped++;
    } else {
      // A pending copy left by an interrupted run is replaced, not duplicated.
      await to.remove(record.id);
      // Kept whatever its owner's quota says now: it was stored within it, or before it was lowered.
      await to.insertPending(record, undefined, { copy: true });
      await carryViews(from, to, record);
      await to.markReady(record.id);
      result.copied++;
    }
    // After the image, so the destination never holds variants of an original no image has
    // (gc removes those); for a skipped image too, as a run may have stopped in between.
    if (!originals.has(record.orig.hash)) {
      originals.add(record.orig.hash);
      await copyVariants(from, to, record.orig.hash, result.variants);
    }
    oneDone();
  }
  await copyTakedowns(from, to, result.takedowns);
  for (const ended of await from.visibility.endedImages()) if (await to.visibility.copyEnded(ended)) result.ended++;
  return result;
}

/**
 * A user named in the destination already, under another id, stops the copy before any record:
 * their records would otherwise name an owner the destination does not have.
 */
async function copyAccounts(from: ImageRepo, to: ImageRepo, counts: DbMigration['accounts']): Promise<void> {
  for (const user of await from.accounts.users()) {
    if (await to.accounts.copyUser(user)) counts.users++;
    else if (!(await to.accounts.user(user.id))) {
      throw new ConfigError(`the destination has another user named '${user.name}' (a different id): remove one of the two (imghost users remove ${user.name}), then run migrate-db again`);
    }
  }
  for (const key of await from.accounts.storedKeys()) if (await to.accounts.copyKey(key)) counts.keys++;
}

/** Takedowns go with the records: the bytes stay refused and the removed ids keep answering 410. */
async function copyTakedowns(from: ImageRepo, to: ImageRepo, counts: DbMigration['takedowns']): Promise<void> {
  for (const takedown of await from.takedowns.list()) {
    if (await to.takedowns.copy(takedown, await from.takedowns.removedIds(takedown.hash))) counts.copied++;
    else counts.skipped++;
  }
  for (const entry of await from.takedowns.log()) if (await to.takedowns.copyLogEntry(entry)) counts.logEntries++;
}

/** The views a view-limited image was served, so its copy serves only those left; before it is ready. */
async function carryViews(from: ImageRepo, to: ImageRepo, record: ImageRecord): Promise<void> {
  if (record.maxViews !== null) await to.visibility.carryViews(record.id, await from.visibility.views(record.id));
}

async function copyVariants(from: ImageRepo, to: ImageRepo, origHash: string, counts: DbMigration['variants']): Promise<void> {
  for (const variant of await from.variantsOf(origHash)) {
    // The destination may have made this variant itself: its own record stands.
    if (await to.getVariant(origHash, variant.spec)) counts.skipped++;
    else {
      await to.insertVariant(variant);
      counts.copied++;
    }
  }
}
