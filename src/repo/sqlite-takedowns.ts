// Takedowns in the embedded store, on the SqliteRepo's own connection: a takedown and its undo
// are one transaction each, synced before they are answered, as a delete is. One transaction is
// enough here: SQLite has one writer at a time, so an upload's pending record commits either
// before the takedown (whose DELETE then sees it) or after it (and the upload's next look at the
// refusals, src/ingest.ts, sees the refusal).
import type Database from 'better-sqlite3';
import { storageFailure } from '../errors.js';
import { RECORD_COLUMNS, toRecord, type ImageRow } from './columns.js';
import type { ImageRecord } from './index.js';
import type { Takedown, TakedownLogEntry, TakedownRepo } from './takedowns.js';

/** What the repository lends its takedowns: durability, and its cache of records to keep true. */
export interface SqliteHooks {
  /** Resolves once the commits made so far survive a power cut. */
  sync(): Promise<void>;
  /** Drops a removed record from the repository's cache. */
  forget(id: string): void;
}

type TakedownRow = { hash: string; reason: string | null; created_at: number; images: number };
type LogRow = { seq: number; at: number; action: 'takedown' | 'undo'; hash: string; reason: string | null; images: number };

export class SqliteTakedowns implements TakedownRepo {
  private readonly stmts;
  private readonly takeDownTx;
  private readonly undoTx;
  private readonly copyTx;

  constructor(db: Database.Database, private readonly hooks: SqliteHooks) {
    const stmts = {
      refused: db.prepare<[string], { one: number }>('SELECT 1 AS one FROM takedowns WHERE hash = ?'),
      removeImages: db.prepare<[string], ImageRow<number, number>>(`DELETE FROM images WHERE orig_hash = ? RETURNING ${RECORD_COLUMNS}`),
      remember: db.prepare('INSERT OR IGNORE INTO taken_down_images (id, hash) VALUES (?, ?)'),
      refuse: db.prepare(`INSERT INTO takedowns (hash, reason, created_at) VALUES (?, ?, ?)
        ON CONFLICT (hash) DO UPDATE SET reason = coalesce(excluded.reason, takedowns.reason)`),
      lift: db.prepare('DELETE FROM takedowns WHERE hash = ?'),
      giveBack: db.prepare('DELETE FROM taken_down_images WHERE hash = ?'),
      append: db.prepare('INSERT INTO takedown_log (at, action, hash, reason, images) VALUES (?, ?, ?, ?, ?)'),
      removedBy: db.prepare<[string], { hash: string; reason: string | null }>(`SELECT t.hash, t.reason
        FROM taken_down_images d JOIN takedowns t ON t.hash = d.hash WHERE d.id = ?`),
      list: db.prepare<[], TakedownRow>(`SELECT hash, reason, created_at,
        (SELECT count(*) FROM taken_down_images d WHERE d.hash = takedowns.hash) AS images FROM takedowns ORDER BY created_at DESC, hash`),
      log: db.prepare<[], LogRow>('SELECT seq, at, action, hash, reason, images FROM takedown_log ORDER BY seq'),
      removedIds: db.prepare<[string], { id: string }>('SELECT id FROM taken_down_images WHERE hash = ? ORDER BY id'),
      copy: db.prepare('INSERT INTO takedowns (hash, reason, created_at) VALUES (?, ?, ?) ON CONFLICT (hash) DO NOTHING'),
      copyLog: db.prepare<[Omit<LogRow, 'seq'>]>(`INSERT INTO takedown_log (at, action, hash, reason, images)
        SELECT @at, @action, @hash, @reason, @images
        WHERE NOT EXISTS (SELECT 1 FROM takedown_log WHERE at = @at AND action = @action AND hash = @hash)`),
    };
    this.stmts = stmts;
    this.takeDownTx = db.transaction((hash: string, reason: string | null): ImageRecord[] | null => {
      const known = stmts.refused.get(hash) !== undefined;
      const removed = stmts.removeImages.all(hash).map(toRecord);
      if (removed.length === 0 && !known) return null;
      for (const record of removed) stmts.remember.run(record.id, hash);
      const now = Date.now();
      stmts.refuse.run(hash, reason, now);
      stmts.append.run(now, 'takedown', hash, reason, removed.length);
      return removed;
    });
    this.copyTx = db.transaction((takedown: Takedown, ids: readonly string[]): boolean => {
      if (stmts.copy.run(takedown.hash, takedown.reason, takedown.createdAt.getTime()).changes === 0) return false;
      for (const id of ids) stmts.remember.run(id, takedown.hash);
      return true;
    });
    this.undoTx = db.transaction((hash: string, reason: string | null): number | null => {
      if (stmts.lift.run(hash).changes === 0) return null;
      const ids = stmts.giveBack.run(hash).changes;
      stmts.append.run(Date.now(), 'undo', hash, reason, ids);
      return ids;
    });
  }

  takeDown(hash: string, reason: string | null): Promise<ImageRecord[] | null> {
    return this.guarded(async () => {
      const removed = this.takeDownTx.immediate(hash, reason);
      for (const record of removed ?? []) this.hooks.forget(record.id);
      if (removed !== null) await this.hooks.sync();
      return removed;
    });
  }

  undo(hash: string, reason: string | null): Promise<number | null> {
    return this.guarded(async () => {
      const ids = this.undoTx.immediate(hash, reason);
      if (ids !== null) await this.hooks.sync();
      return ids;
    });
  }

  isRefused(hash: string): Promise<boolean> {
    return this.guarded(() => this.stmts.refused.get(hash) !== undefined);
  }

  removedBy(id: string): Promise<Pick<Takedown, 'hash' | 'reason'> | null> {
    return this.guarded(() => this.stmts.removedBy.get(id) ?? null);
  }

  list(): Promise<Takedown[]> {
    return this.guarded(() => this.stmts.list.all().map((row) => ({
      hash: row.hash, reason: row.reason, createdAt: new Date(row.created_at), images: row.images,
    })));
  }

  log(): Promise<TakedownLogEntry[]> {
    return this.guarded(() => this.stmts.log.all().map((row) => ({ ...row, at: new Date(row.at) })));
  }

  removedIds(hash: string): Promise<string[]> {
    return this.guarded(() => this.stmts.removedIds.all(hash).map((row) => row.id));
  }

  /** Not synced: migrate-db may be run again. */
  copy(takedown: Takedown, ids: readonly string[]): Promise<boolean> {
    return this.guarded(() => this.copyTx.immediate(takedown, ids));
  }

  copyLogEntry(entry: TakedownLogEntry): Promise<boolean> {
    return this.guarded(() => this.stmts.copyLog.run({
      at: entry.at.getTime(), action: entry.action, hash: entry.hash, reason: entry.reason, images: entry.images,
    }).changes > 0);
  }

  /** As SqliteRepo's: a full or read-only disk rejects with its catalogue error. */
  private async guarded<T>(work: () => T | Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      throw storageFailure(err);
    }
  }
}
