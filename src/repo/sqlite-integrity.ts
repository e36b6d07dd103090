// The records' rules (integrity.ts) checked in the embedded store, on the SqliteRepo's own connection.
import type Database from 'better-sqlite3';
import { storageFailure } from '../errors.js';
import { SQL, type IntegrityRepo } from './integrity.js';
import type { SqliteHooks } from './sqlite-takedowns.js';

export class SqliteIntegrity implements IntegrityRepo {
  private readonly stmts;

  constructor(db: Database.Database, private readonly hooks: SqliteHooks) {
    this.stmts = {
      danglingOwners: db.prepare<[], { id: string; owner: string }>(SQL.danglingOwners),
      refusedOriginals: db.prepare<[], { id: string; hash: string }>(SQL.refusedOriginals),
      overViewed: db.prepare<[], { id: string; views: number; maxViews: number }>(SQL.overViewed),
      expiredBefore: db.prepare<[number], { id: string; expires_at: number }>(
        'SELECT id, expires_at FROM images WHERE ready = 1 AND expires_at < ? ORDER BY seq'),
      disownDangling: db.prepare<[], { id: string }>(SQL.disownDangling),
    };
  }

  danglingOwners(): Promise<{ id: string; owner: string }[]> {
    return this.guarded(() => this.stmts.danglingOwners.all());
  }

  refusedOriginals(): Promise<{ id: string; hash: string }[]> {
    return this.guarded(() => this.stmts.refusedOriginals.all());
  }

  overViewed(): Promise<{ id: string; views: number; maxViews: number }[]> {
    return this.guarded(() => this.stmts.overViewed.all());
  }

  expiredBefore(before: Date): Promise<{ id: string; expiresAt: Date }[]> {
    return this.guarded(() => this.stmts.expiredBefore.all(before.getTime())
      .map((row) => ({ id: row.id, expiresAt: new Date(row.expires_at) })));
  }

  disownDangling(): Promise<number> {
    return this.guarded(async () => {
      const changed = this.stmts.disownDangling.all();
      for (const { id } of changed) this.hooks.forget(id);
      if (changed.length > 0) await this.hooks.sync();
      return changed.length;
    });
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
