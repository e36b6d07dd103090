// Copying a library between stores, so a user can grow from the embedded default (files,
// SQLite) to an object store and PostgreSQL without losing an image. Both copies are resumable:
// what the destination already holds is skipped, so an interrupted run is simply run again.
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pLimit from 'p-limit';
import { mimeOf } from './images/probe.js';
import type { ImageRecord, ImageRepo } from './repo/index.js';
import type { BlobStore } from './store/index.js';

export interface Progress { total: number; done: number }

export interface StoreMigration { copied: number; skipped: number; failed: { key: string; reason: string }[] }

/**
 * Copies every blob of `from` missing in `to`, `concurrency` at a time, checking that each
 * copy's SHA-256 matches its key before the destination sees it.
 */
export async function migrateStore(from: BlobStore, to: BlobStore, concurrency: number,
  onProgress: (p: Progress) => void = () => undefined): Promise<StoreMigration> {
  const keys: string[] = [];
  for await (const blob of from.list()) keys.push(blob.key);
  const result: StoreMigration = { copied: 0, skipped: 0, failed: [] };
  const spool = await mkdtemp(join(tmpdir(), 'imghost-migrate-'));
  const limit = pLimit(concurrency);
  let done = 0;
  onProgress({ total: keys.length, done });
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
      onProgress({ total: keys.length, done: ++done });
    })));
  } finally {
    await rm(spool, { recursive: true, force: true });
  }
  return result;
}

/** A pass-through that hashes what flows through it; `sha256()` gives the hex digest once it has ended. */
export class HashingStream extends Transform {
  private readonly hash = createHash('sha256');
  bytes = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: (err: null, chunk: Buffer) => void): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    done(null, chunk);
  }

  sha256(): string {
    return this.hash.digest('hex');
  }
}

async function copyBlob(from: BlobStore, to: BlobStore, key: string, spool: string): Promise<void> {
  const path = join(spool, `${key}.${randomBytes(4).toString('hex')}`);
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

export interface DbMigration { copied: number; skipped: number }

const PAGE = 1000;

/** Every ready image record, newest first. */
export async function readyRecords(repo: ImageRepo): Promise<ImageRecord[]> {
  const records: ImageRecord[] = [];
  for (let page = await repo.list(PAGE); page.length > 0; page = await repo.list(PAGE, page.at(-1)?.seq)) {
    records.push(...page);
  }
  return records;
}

/** Copies every ready image record of `from` missing in `to`, oldest first, so the order is kept. */
export async function migrateDb(from: ImageRepo, to: ImageRepo,
  onProgress: (p: Progress) => void = () => undefined): Promise<DbMigration> {
  const records = (await readyRecords(from)).reverse();
  const result: DbMigration = { copied: 0, skipped: 0 };
  let done = 0;
  onProgress({ total: records.length, done });
  for (const record of records) {
    if (await to.get(record.id)) {
      result.skipped++;
    } else {
      // A pending copy left by an interrupted run is replaced, not duplicated.
      await to.remove(record.id);
      await to.insertPending(record);
      await to.markReady(record.id);
      result.copied++;
    }
    onProgress({ total: records.length, done: ++done });
  }
  return result;
}
