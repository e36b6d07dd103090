// The embedded metadata store: one SQLite file in WAL mode through better-sqlite3.
// Queries are synchronous but each is an indexed lookup of well under a millisecond; the methods
// answer with promises all the same, and report a full or read-only disk as catalogue errors. Commits
// only write the WAL (synchronous = NORMAL); the ones that must survive a power cut wait for an
// fdatasync of the WAL file on libuv's thread pool, shared by the commits made meanwhile, so the
// event loop never waits for the disk.
import Database from 'better-sqlite3';
import { LRUCache } from 'lru-cache';
import { mkdirSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { storageFailure } from '../errors.js';
import {
  INSERT_COLUMNS, insertPlaceholders, insertValues, RECORD_COLUMNS, toRecord, toUncounted, toVariant, UNCOUNTED_COLUMNS,
  VARIANT_COLUMNS, variantValues, type ImageRow, type UncountedRow, type VariantRow,
} from './columns.js';
import { GroupSync } from './group-sync.js';
import { WalChanges } from './wal-changes.js';
import { migrations } from './sqlite-schema.js';
import { SqliteTakedowns } from './sqlite-takedowns.js';
import { SqliteVisibility } from './sqlite-visibility.js';
import { SqliteAccounts } from './sqlite-accounts.js';
import { SqliteIntegrity } from './sqlite-integrity.js';
import { PENDING_LEASE, type ImageRecord, type ImageRepo, type NewImage, type UncountedFrames, type VariantRecord } from './index.js';

type Row = ImageRow<number, number>;

/** Records read at a time by referencedHashes. */
const HASH_PAGE = 5000;

/** Records `get` keeps: about 0.5 KB each. */
const CACHED_RECORDS = 10_000;

export class SqliteRepo implements ImageRepo {
  private readonly db: Database.Database;
  private readonly stmts;
  /** Opened at the first sync: SQLite creates the WAL file at the first commit. */
  private wal: Promise<FileHandle> | null = null;
  private readonly durable: GroupSync;
  /**
   * Records by id, as `get` last read them: reading one from SQLite costs more than the rest of a
   * thumbnail GET. All are dropped when any connection (another worker, another process, this
   * one) has committed since the last `get`; this connection's own changes to ready records drop
   * them as they are made, before their commit is synced.
   */
  private readonly records = new LRUCache<string, ImageRecord>({ max: CACHED_RECORDS });
  private readonly commits: WalChanges;
  readonly takedowns: SqliteTakedowns;
  readonly visibility: SqliteVisibility;
  readonly accounts: SqliteAccounts;
  readonly integrity: SqliteIntegrity;

  /** With `create: false` the database file must exist: commands that read a library never make one. */
  constructor(private readonly path: string, { create = true }: { create?: boolean } = {}) {
    const inMemory = path === ':memory:';
    if (!inMemory && create) mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path, { fileMustExist: !create });
    this.db.pragma('journal_mode = WAL');
    // NORMAL: commits append to the WAL without syncing; `durable` syncs it (WAL frames are
    // appended in order, so one sync makes every commit before it survive a power cut).
    this.db.pragma('synchronous = NORMAL');
    this.durable = new GroupSync(inMemory ? () => Promise.resolve() : async () => { await (await this.walFile()).datasync(); });
    this.db.pragma('busy_timeout = 5000');
    this.commits = new WalChanges(inMemory ? null : path);
    this.migrate();
    this.accounts = new SqliteAccounts(this.db);
    this.takedowns = new SqliteTakedowns(this.db, { sync: () => this.durable.sync(), forget: (id) => { this.records.delete(id); } });
    this.visibility = new SqliteVisibility(this.db, { sync: () => this.durable.sync(), forget: (id) => { this.records.delete(id); } });
    this.integrity = new SqliteIntegrity(this.db, { sync: () => this.durable.sync(), forget: (id) => { this.records.delete(id); } });
    const db = this.db;
    this.stmts = {
      insert: db.prepare(`INSERT INTO images (${INSERT_COLUMNS}, ready, lease_until)
        VALUES (${insertPlaceholders(() => '?')}, 0, ?)`),
      renew: db.prepare('UPDATE images SET lease_until = ? WHERE id = ? AND ready = 0'),
      markReady: db.prepare('UPDATE images SET ready = 1 WHERE id = ?'),
      get: db.prepare<[string], Row>(`SELECT ${RECORD_COLUMNS} FROM images WHERE id = ? AND ready = 1`),
      list: db.prepare<[number, number], Row>(`SELECT ${RECORD_COLUMNS} FROM images WHERE ready = 1 AND seq < ? ORDER BY seq DESC LIMIT ?`),
      duplicate: db.prepare<[string, string], Row>(
        `SELECT ${RECORD_COLUMNS} FROM images WHERE orig_hash = ? AND thumb_spec = ? AND ready = 1 LIMIT 1`),
      remove: db.prepare('DELETE FROM images WHERE id = ?'),
      referenced: db.prepare<[string, string, string], { one: number }>(`SELECT 1 AS one WHERE EXISTS (SELECT 1 FROM images WHERE orig_hash = ?)
        OR EXISTS (SELECT 1 FROM images WHERE thumb_hash = ?) OR EXISTS (SELECT 1 FROM variants WHERE hash = ?)`),
      stale: db.prepare<[number], Row>(`SELECT ${RECORD_COLUMNS} FROM images WHERE ready = 0 AND created_at < ?`),
      expired: db.prepare<[number], Row>(`DELETE FROM images WHERE ready = 0 AND lease_until < ? RETURNING ${RECORD_COLUMNS}`),
      // One parameter, a JSON array: no limit on host parameters, and one statement for any batch.
      // EXISTS stops at the first index that has the hash (a third faster than a UNION of three).
      referencedAmong: db.prepare<[string], { hash: string }>(`SELECT batch.value AS hash FROM json_each(?) AS batch
        WHERE EXISTS (SELECT 1 FROM images WHERE orig_hash = batch.value) OR EXISTS (SELECT 1 FROM images WHERE thumb_hash = batch.value)
        OR EXISTS (SELECT 1 FROM variants WHERE variants.hash = batch.value)`),
      hashes: db.prepare<[number, number], { seq: number; orig_hash: string; thumb_hash: string }>(
        'SELECT seq, orig_hash, thumb_hash FROM images WHERE seq > ? ORDER BY seq LIMIT ?'),
      variantHashes: db.prepare<[number, number], { seq: number; hash: string }>(
        'SELECT rowid AS seq, hash FROM variants WHERE rowid > ? ORDER BY rowid LIMIT ?'),
      getVariant: db.prepare<[string, string], VariantRow<number, number>>(
        `SELECT ${VARIANT_COLUMNS} FROM variants WHERE orig_hash = ? AND spec = ?`),
      variantsOf: db.prepare<[string], VariantRow<number, number>>(`SELECT ${VARIANT_COLUMNS} FROM variants WHERE orig_hash = ? ORDER BY spec`),
      insertVariant: db.prepare(`INSERT INTO variants (${VARIANT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`),
      removeVariant: db.prepare('DELETE FROM variants WHERE orig_hash = ? AND spec = ? AND hash = ?'),
      orphanVariants: db.prepare<[string | null, string | null], VariantRow<number, number>>(`DELETE FROM variants
        WHERE (? IS NULL OR orig_hash = ?) AND NOT EXISTS (SELECT 1 FROM images WHERE images.orig_hash = variants.orig_hash)
        RETURNING ${VARIANT_COLUMNS}`),
      uncounted: db.prepare<[number, number], UncountedRow<number>>(
        `SELECT ${UNCOUNTED_COLUMNS} FROM images WHERE frames = 0 AND seq > ? ORDER BY seq LIMIT ?`),
      setFrames: db.prepare('UPDATE images SET frames = ? WHERE id = ? AND frames = 0'),
      ping: db.prepare('SELECT 1'),
    };
  }

  private migrate(): void {
    const apply = this.db.transaction(() => {
      const version = this.db.pragma('user_version', { simple: true }) as number;
      for (let v = version; v < migrations.length; v++) {
        this.db.exec(migrations[v] ?? '');
        this.db.pragma(`user_version = ${String(v + 1)}`);
      }
    });
    apply.immediate();
  }

  ping(): Promise<void> {
    return this.guarded(() => { this.stmts.ping.get(); });
  }

  /**
   * Runs a query (and the sync a commit waits for) as a promise, whose rejection names a full or
   * read-only storage by its catalogue error: the statements themselves throw synchronously.
   */
  private async guarded<T>(work: () => T | Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      throw storageFailure(err);
    }
  }

  private walFile(): Promise<FileHandle> {
    // A failed open (a full file table, say) is tried again at the next sync.
    this.wal ??= open(`${this.path}-wal`, 'r+').catch((err: unknown) => { this.wal = null; throw err; });
    return this.wal;
  }

  insertPending(image: NewImage, leaseMs: number = PENDING_LEASE.durationMs, copy?: { copy: true }): Promise<void> {
    // A pending record need not survive a power cut (its blobs would then be swept as orphans):
    // markReady's sync makes both durable.
    return this.guarded(() => {
      const insert = () => { this.stmts.insert.run(...insertValues(image, (date) => date.getTime(), (flag) => (flag ? 1 : 0)), Date.now() + leaseMs); };
      if (image.owner === null || copy) insert(); else this.accounts.withinQuota(image.owner, image.orig.bytes, insert);
    });
  }

  /** Not synced: a power cut ends the uploads whose leases these are anyway. */
  renewLeases(ids: readonly string[], leaseMs: number): Promise<void> {
    const until = Date.now() + leaseMs;
    return this.guarded(() => { this.db.transaction(() => { for (const id of ids) this.stmts.renew.run(until, id); })(); });
  }

  /** Acknowledged with 201 once this resolves true: the record survives a power cut. */
  markReady(id: string): Promise<boolean> {
    return this.guarded(async () => {
      if (this.stmts.markReady.run(id).changes === 0) return false;
      await this.durable.sync();
      return true;
    });
  }

  get(id: string): Promise<ImageRecord | null> {
    return this.guarded(() => {
      if (this.commits.changed()) this.records.clear();
      const cached = this.records.get(id);
      if (cached) return cached;
      const row = this.stmts.get.get(id);
      const record = row ? toRecord(row) : null;
      if (record) this.records.set(id, record);
      return record;
    });
  }

  list(limit: number, before = Number.MAX_SAFE_INTEGER): Promise<ImageRecord[]> {
    return this.guarded(() => this.stmts.list.all(before, limit).map(toRecord));
  }

  findDuplicate(origHash: string, thumbSpec: string): Promise<ImageRecord | null> {
    return this.guarded(() => this.stmts.duplicate.get(origHash, thumbSpec)).then((row) => (row ? toRecord(row) : null));
  }

  /** A deleted image must not come back after a power cut either. */
  remove(id: string): Promise<boolean> {
    return this.guarded(async () => {
      const removed = this.stmts.remove.run(id).changes > 0;
      this.records.delete(id);
      if (removed) await this.durable.sync();
      return removed;
    });
  }

  isReferenced(hash: string): Promise<boolean> {
    return this.guarded(() => this.stmts.referenced.get(hash, hash, hash) !== undefined);
  }

  stalePending(olderThan: Date): Promise<ImageRecord[]> {
    return this.guarded(() => this.stmts.stale.all(olderThan.getTime()).map(toRecord));
  }

  removeExpiredPending(): Promise<ImageRecord[]> {
    return this.guarded(async () => {
      const removed = this.stmts.expired.all(Date.now()).map(toRecord);
      if (removed.length > 0) await this.durable.sync();
      return removed;
    });
  }

  referencedAmong(hashes: readonly string[]): Promise<Set<string>> {
    if (hashes.length === 0) return Promise.resolve(new Set());
    return this.guarded(() => new Set(this.stmts.referencedAmong.all(JSON.stringify(hashes)).map((row) => row.hash)));
  }

  async referencedHashes(): Promise<Set<string>> {
    const set = new Set<string>();
    await this.pages(this.stmts.hashes, (row) => set.add(row.orig_hash).add(row.thumb_hash));
    await this.pages(this.stmts.variantHashes, (row) => set.add(row.hash));
    return set;
  }

  /**
   * Reads a whole table page by page, yielding between pages: a backup reads every record, and
   * the process's other work must not wait for a large library to be read.
   */
  private async pages<R extends { seq: number }>(stmt: Database.Statement<[number, number], R>, each: (row: R) => void): Promise<void> {
    for (let after = 0; ;) {
      const page = await this.guarded(() => stmt.all(after, HASH_PAGE));
      const last = page.at(-1);
      if (last === undefined) return;
      page.forEach(each);
      after = last.seq;
      await new Promise(setImmediate);
    }
  }

  getVariant(origHash: string, spec: string): Promise<VariantRecord | null> {
    return this.guarded(() => this.stmts.getVariant.get(origHash, spec)).then((row) => (row ? toVariant(row) : null));
  }

  variantsOf(origHash: string): Promise<VariantRecord[]> {
    return this.guarded(() => this.stmts.variantsOf.all(origHash).map(toVariant));
  }

  /** Not synced: a variant lost to a power cut is made again when next asked for. */
  async insertVariant(variant: VariantRecord): Promise<VariantRecord> {
    await this.guarded(() => this.stmts.insertVariant.run(...variantValues(variant, (date) => date.getTime())));
    return (await this.getVariant(variant.origHash, variant.spec)) ?? variant;
  }

  removeVariant(origHash: string, spec: string, hash: string): Promise<void> {
    return this.guarded(() => { this.stmts.removeVariant.run(origHash, spec, hash); });
  }

  removeOrphanVariants(origHash?: string): Promise<VariantRecord[]> {
    return this.guarded(() => this.stmts.orphanVariants.all(origHash ?? null, origHash ?? null).map(toVariant));
  }

  uncountedFrames(limit: number, after = 0): Promise<UncountedFrames[]> {
    return this.guarded(() => this.stmts.uncounted.all(after, limit).map(toUncounted));
  }

  /** Not synced: a count lost to a power cut is made again at the next start. */
  setFrames(id: string, frames: number): Promise<boolean> {
    return this.guarded(() => {
      this.records.delete(id);
      return this.stmts.setFrames.run(frames, id).changes > 0;
    });
  }

  async close(): Promise<void> {
    this.commits.close();
    this.db.close();
    await (await this.wal?.catch(() => null))?.close();
  }
}
