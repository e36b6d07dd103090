// Visibility and lifetimes in PostgreSQL, on the PostgresRepo's pool. A view is counted by one
// UPDATE whose row lock orders concurrent GETs from every node: exactly max_views of them see
// their row updated.
import type pg from 'pg';
import type { QueryResult } from 'pg';
import { RECORD_COLUMNS, toRecord, type ImageRow } from './columns.js';
import type { ImageRecord } from './index.js';
import { LAST_VIEW_GRACE_MS, type EndedImage, type VisibilityRepo } from './visibility.js';

const sql = {
  listed: `SELECT ${RECORD_COLUMNS} FROM images
    WHERE ready AND NOT unlisted AND max_views IS NULL AND (expires_at IS NULL OR expires_at > now()) AND seq < $1
    ORDER BY seq DESC LIMIT $2`,
  countView: `UPDATE images SET views = views + 1,
    expires_at = CASE WHEN views + 1 >= max_views THEN LEAST(expires_at, now() + $2::double precision * interval '1 millisecond')
      ELSE expires_at END
    WHERE id = $1 AND ready AND (max_views IS NULL OR views < max_views) AND (expires_at IS NULL OR expires_at > now())`,
  usedUp: 'SELECT 1 FROM images WHERE id = $1 AND max_views IS NOT NULL AND views >= max_views',
  views: 'SELECT views FROM images WHERE id = $1',
  carryViews: 'UPDATE images SET views = GREATEST(views, $2) WHERE id = $1',
  // SKIP LOCKED: nodes sweeping at once take different rows, none waiting on another's batch.
  removeExpired: `WITH gone AS (DELETE FROM images WHERE id IN
      (SELECT id FROM images WHERE expires_at <= now() AND ready LIMIT $1 FOR UPDATE SKIP LOCKED)
      RETURNING ${RECORD_COLUMNS}, coalesce(views >= max_views, false) AS views_used_up),
    noted AS (INSERT INTO ended_images (id, views_used_up) SELECT id, views_used_up FROM gone ON CONFLICT DO NOTHING)
    SELECT ${RECORD_COLUMNS} FROM gone`,
  ended: 'SELECT id, views_used_up FROM ended_images WHERE id = $1',
  endedImages: 'SELECT id, views_used_up FROM ended_images ORDER BY id',
  copyEnded: 'INSERT INTO ended_images (id, views_used_up) VALUES ($1, $2) ON CONFLICT DO NOTHING',
} as const;

export class PostgresVisibility implements VisibilityRepo {
  /** `translate` names a connection failure by the catalogue's Unavailable, as the repository does. */
  constructor(private readonly pool: pg.Pool, private readonly translate: (err: unknown) => unknown) {}

  async listed(limit: number, before = Number.MAX_SAFE_INTEGER): Promise<ImageRecord[]> {
    return ((await this.query('listed', [before, limit])).rows as ImageRow<string, Date>[]).map(toRecord);
  }

  async countView(id: string): Promise<boolean> {
    return ((await this.query('countView', [id, LAST_VIEW_GRACE_MS])).rowCount ?? 0) > 0;
  }

  async viewsUsedUp(id: string): Promise<boolean> {
    return ((await this.query('usedUp', [id])).rowCount ?? 0) > 0;
  }

  async views(id: string): Promise<number> {
    return ((await this.query('views', [id])).rows as { views: number }[])[0]?.views ?? 0;
  }

  async carryViews(id: string, views: number): Promise<void> {
    await this.query('carryViews', [id, views]);
  }

  async removeExpired(limit: number): Promise<ImageRecord[]> {
    return ((await this.query('removeExpired', [limit])).rows as ImageRow<string, Date>[]).map(toRecord);
  }

  async ended(id: string): Promise<EndedImage | null> {
    return (await this.endedRows('ended', [id]))[0] ?? null;
  }

  endedImages(): Promise<EndedImage[]> {
    return this.endedRows('endedImages', []);
  }

  async copyEnded(image: EndedImage): Promise<boolean> {
    return ((await this.query('copyEnded', [image.id, image.viewsUsedUp])).rowCount ?? 0) > 0;
  }

  private async endedRows(name: 'ended' | 'endedImages', values: unknown[]): Promise<EndedImage[]> {
    return ((await this.query(name, values)).rows as { id: string; views_used_up: boolean }[])
      .map((r) => ({ id: r.id, viewsUsedUp: r.views_used_up }));
  }

  private async query(name: keyof typeof sql, values: unknown[]): Promise<QueryResult> {
    try {
      return await this.pool.query({ name: `imghost_visibility_${name}`, text: sql[name], values });
    } catch (err) {
      throw this.translate(err);
    }
  }
}
