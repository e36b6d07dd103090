// The records' rules (integrity.ts) checked in PostgreSQL, on the PostgresRepo's pool.
import type pg from 'pg';
import { SQL, type IntegrityRepo } from './integrity.js';

export class PostgresIntegrity implements IntegrityRepo {
  /** `translate` names a connection failure by the catalogue's Unavailable, as the repository does. */
  constructor(private readonly pool: pg.Pool, private readonly translate: (err: unknown) => unknown) {}

  async danglingOwners(): Promise<{ id: string; owner: string }[]> {
    return (await this.query(SQL.danglingOwners)).rows as { id: string; owner: string }[];
  }

  async refusedOriginals(): Promise<{ id: string; hash: string }[]> {
    return (await this.query(SQL.refusedOriginals)).rows as { id: string; hash: string }[];
  }

  async overViewed(): Promise<{ id: string; views: number; maxViews: number }[]> {
    return (await this.query(SQL.overViewed)).rows as { id: string; views: number; maxViews: number }[];
  }

  async expiredBefore(before: Date): Promise<{ id: string; expiresAt: Date }[]> {
    const sql = 'SELECT id, expires_at AS "expiresAt" FROM images WHERE ready AND expires_at < $1 ORDER BY seq';
    return (await this.query(sql, [before])).rows as { id: string; expiresAt: Date }[];
  }

  async disownDangling(): Promise<number> {
    return (await this.query(SQL.disownDangling)).rowCount ?? 0;
  }

  private async query(text: string, values: unknown[] = []): Promise<pg.QueryResult> {
    try {
      return await this.pool.query(text, values);
    } catch (err) {
      throw this.translate(err);
    }
  }
}
