// Visibility and lifetimes in the embedded store, on the SqliteRepo's own connection. A counted
// view and a removal are synced before they are acted on: a view a power cut forgot would be
// served again, and a removal it forgot would bring back a record whose blobs were released.
import type Database from 'better-sqlite3';
import { storageFailure } from '../errors.js';
import { RECORD_COLUMNS, toRecord, type ImageRow } from './columns.js';
import type { ImageRecord } from './index.js';
import { LAST_VIEW_GRACE_MS, type EndedImage, type VisibilityRepo } from './visibility.js';

/** What the repository lends: durability, and its cache of records to keep true. */
export interface SqliteVisibilityHooks {
  sync(): Promise<void>;
  forget(id: string): void;
}

type Row = ImageRow<number, number>;
type EndedRow = { id: string; views_used_up: number };
const toEnded = (r: EndedRow): EndedImage => ({ id: r.id, viewsUsedUp: r.views_used_up === 1 });

export class SqliteVisibility implements VisibilityRepo {
  private readonly stmts;
  private readonly removeBatch: (now: number, limit: number) => ImageRecord[];

  constructor(db: Database.Database, private readonly hooks: SqliteVisibilityHooks) {
    this.stmts = {
      // The terms of the images_listed index's WHERE, as written there, so SQLite uses it.
      listed: db.prepare<[number, number, number], Row>(`SELECT ${RECORD_COLUMNS} FROM images
        WHERE ready = 1 AND unlisted = 0 AND max_views IS NULL AND (expires_at IS NULL OR expires_at > ?) AND seq < ?
        ORDER BY seq DESC LIMIT ?`),
      countView: db.prepare<{ id: string; now: number; until: number }>(`UPDATE images SET views = views + 1,
        expires_at = CASE WHEN views + 1 >= max_views THEN min(coalesce(expires_at, @until), @until) ELSE expires_at END
        WHERE id = @id AND ready = 1 AND (max_views IS NULL OR views < max_views) AND (expires_at IS NULL OR expires_at > @now)`),
      usedUp: db.prepare<[string], { one: number }>('SELECT 1 AS one FROM images WHERE id = ? AND max_views IS NOT NULL AND views >= max_views'),
      views: db.prepare<[string], { views: number }>('SELECT views FROM images WHERE id = ?'),
      carryViews: db.prepare<{ id: string; views: number }>('UPDATE images SET views = max(views, @views) WHERE id = @id'),
      removeExpired: db.prepare<[number, number], Row & { views_used_up: number }>(`DELETE FROM images WHERE id IN
        (SELECT id FROM images WHERE expires_at <= ? AND ready = 1 LIMIT ?)
        RETURNING ${RECORD_COLUMNS}, coalesce(views >= max_views, 0) AS views_used_up`),
      noteEnded: db.prepare<EndedRow>('INSERT OR IGNORE INTO ended_images (id, views_used_up) VALUES (@id, @views_used_up)'),
      ended: db.prepare<[string], EndedRow>('SELECT id, views_used_up FROM ended_images WHERE id = ?'),
      endedImages: db.prepare<[], EndedRow>('SELECT id, views_used_up FROM ended_images ORDER BY id'),
    };
    this.removeBatch = db.transaction((now: number, limit: number) => this.stmts.removeExpired.all(now, limit).map((row) => {
      this.stmts.noteEnded.run({ id: row.id, views_used_up: row.views_used_up });
      return toRecord(row);
    }));
  }

  listed(limit: number, before = Number.MAX_SAFE_INTEGER): Promise<ImageRecord[]> {
    return this.guarded(() => this.stmts.listed.all(Date.now(), before, limit).map(toRecord));
  }

  countView(id: string): Promise<boolean> {
    return this.guarded(async () => {
      const now = Date.now();
      if (this.stmts.countView.run({ id, now, until: now + LAST_VIEW_GRACE_MS }).changes === 0) return false;
      // The last view moved the expiry: the cached record must not keep the old one.
      this.hooks.forget(id);
      await this.hooks.sync();
      return true;
    });
  }

  viewsUsedUp(id: string): Promise<boolean> {
    return this.guarded(() => this.stmts.usedUp.get(id) !== undefined);
  }

  views(id: string): Promise<number> {
    return this.guarded(() => this.stmts.views.get(id)?.views ?? 0);
  }

  carryViews(id: string, views: number): Promise<void> {
    return this.guarded(async () => {
      if (this.stmts.carryViews.run({ id, views }).changes > 0) await this.hooks.sync();
    });
  }

  removeExpired(limit: number): Promise<ImageRecord[]> {
    return this.guarded(async () => {
      const removed = this.removeBatch(Date.now(), limit);
      for (const record of removed) this.hooks.forget(record.id);
      if (removed.length > 0) await this.hooks.sync();
      return removed;
    });
  }

  ended(id: string): Promise<EndedImage | null> {
    return this.guarded(() => { const row = this.stmts.ended.get(id); return row ? toEnded(row) : null; });
  }

  endedImages(): Promise<EndedImage[]> {
    return this.guarded(() => this.stmts.endedImages.all().map(toEnded));
  }

  copyEnded(image: EndedImage): Promise<boolean> {
    return this.guarded(async () => {
      const copied = this.stmts.noteEnded.run({ id: image.id, views_used_up: image.viewsUsedUp ? 1 : 0 }).changes > 0;
      if (copied) await this.hooks.sync();
      return copied;
    });
  }

  /** As the repository's own methods: a full or read-only disk is named by its catalogue error. */
  private async guarded<T>(work: () => T | Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      throw storageFailure(err);
    }
  }
}
