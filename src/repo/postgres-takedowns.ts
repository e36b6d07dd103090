// Takedowns in PostgreSQL, on the PostgresRepo's pool. A takedown is two transactions: the
// refusal and its log entry commit first, then the records go. An upload looks at the refusals
// after committing its pending record (src/ingest.ts): if that look missed the refusal, it ran
// before the refusal committed, so the record was committed before the DELETE's snapshot was
// taken, and the DELETE removes it. (In one transaction, a DELETE begun before the record
// committed would miss it while the look, before the commit, missed the refusal too.)
import type pg from 'pg';
import type { PoolClient } from 'pg';
import { RECORD_COLUMNS, toRecord, type ImageRow } from './columns.js';
import type { ImageRecord } from './index.js';
import { inTransaction } from './postgres-transaction.js';
import type { Takedown, TakedownLogEntry, TakedownRepo } from './takedowns.js';

const sql = {
  refused: 'SELECT 1 FROM takedowns WHERE hash = $1',
  stored: 'SELECT 1 FROM images WHERE orig_hash = $1 LIMIT 1',
  removeImages: `DELETE FROM images WHERE orig_hash = $1 RETURNING ${RECORD_COLUMNS}`,
  remember: 'INSERT INTO taken_down_images (id, hash) SELECT unnest($1::text[]), $2 ON CONFLICT (id) DO NOTHING',
  refuse: `INSERT INTO takedowns (hash, reason, created_at) VALUES ($1, $2, now())
    ON CONFLICT (hash) DO UPDATE SET reason = coalesce(excluded.reason, takedowns.reason)`,
  lift: 'DELETE FROM takedowns WHERE hash = $1',
  giveBack: 'DELETE FROM taken_down_images WHERE hash = $1',
  append: 'INSERT INTO takedown_log (at, action, hash, reason, images) VALUES (now(), $1, $2, $3, $4) RETURNING seq',
  count: 'UPDATE takedown_log SET images = $2 WHERE seq = $1',
  removedBy: 'SELECT t.hash, t.reason FROM taken_down_images d JOIN takedowns t ON t.hash = d.hash WHERE d.id = $1',
  list: `SELECT hash, reason, created_at,
    (SELECT count(*) FROM taken_down_images d WHERE d.hash = takedowns.hash)::integer AS images FROM takedowns ORDER BY created_at DESC, hash`,
  log: 'SELECT seq, at, action, hash, reason, images FROM takedown_log ORDER BY seq',
  removedIds: 'SELECT id FROM taken_down_images WHERE hash = $1 ORDER BY id',
  copy: 'INSERT INTO takedowns (hash, reason, created_at) VALUES ($1, $2, $3) ON CONFLICT (hash) DO NOTHING',
  copyLog: `INSERT INTO takedown_log (at, action, hash, reason, images) SELECT $1::timestamptz, $2::text, $3::text, $4::text, $5::integer
    WHERE NOT EXISTS (SELECT 1 FROM takedown_log WHERE at = $1 AND action = $2 AND hash = $3)`,
} as const;

type TakedownRow = { hash: string; reason: string | null; created_at: Date; images: number };
type LogRow = { seq: string; at: Date; action: 'takedown' | 'undo'; hash: string; reason: string | null; images: number };

export class PostgresTakedowns implements TakedownRepo {
  /** `translate` names a connection failure by the catalogue's Unavailable, as the repository does. */
  constructor(private readonly pool: pg.Pool, private readonly translate: (err: unknown) => unknown) {}

  async takeDown(hash: string, reason: string | null): Promise<ImageRecord[] | null> {
    const entry = await this.transaction(async (client) => {
      const known = ((await client.query(sql.refused, [hash])).rowCount ?? 0) > 0;
      if (!known && ((await client.query(sql.stored, [hash])).rowCount ?? 0) === 0) return null;
      await client.query(sql.refuse, [hash, reason]);
      const [logged] = (await client.query(sql.append, ['takedown', hash, reason, 0])).rows as { seq: string }[];
      return logged?.seq ?? null;
    });
    if (entry === null) return null;
    // Should this one fail, the bytes stay refused and taking them down again removes the records.
    return this.transaction(async (client) => {
      const removed = ((await client.query(sql.removeImages, [hash])).rows as ImageRow<string, Date>[]).map(toRecord);
      await client.query(sql.remember, [removed.map((record) => record.id), hash]);
      await client.query(sql.count, [entry, removed.length]);
      return removed;
    });
  }

  undo(hash: string, reason: string | null): Promise<number | null> {
    return this.transaction(async (client) => {
      if (((await client.query(sql.lift, [hash])).rowCount ?? 0) === 0) return null;
      const ids = (await client.query(sql.giveBack, [hash])).rowCount ?? 0;
      await client.query(sql.append, ['undo', hash, reason, ids]);
      return ids;
    });
  }

  async isRefused(hash: string): Promise<boolean> {
    return ((await this.query(sql.refused, [hash])).rowCount ?? 0) > 0;
  }

  async removedBy(id: string): Promise<Pick<Takedown, 'hash' | 'reason'> | null> {
    const [row] = (await this.query(sql.removedBy, [id])).rows as { hash: string; reason: string | null }[];
    return row ?? null;
  }

  async list(): Promise<Takedown[]> {
    return ((await this.query(sql.list)).rows as TakedownRow[]).map((row) => ({
      hash: row.hash, reason: row.reason, createdAt: row.created_at, images: row.images,
    }));
  }

  async log(): Promise<TakedownLogEntry[]> {
    return ((await this.query(sql.log)).rows as LogRow[]).map((row) => ({ ...row, seq: Number(row.seq) }));
  }

  async removedIds(hash: string): Promise<string[]> {
    return ((await this.query(sql.removedIds, [hash])).rows as { id: string }[]).map((row) => row.id);
  }

  copy(takedown: Takedown, ids: readonly string[]): Promise<boolean> {
    return this.transaction(async (client) => {
      if (((await client.query(sql.copy, [takedown.hash, takedown.reason, takedown.createdAt])).rowCount ?? 0) === 0) return false;
      await client.query(sql.remember, [ids, takedown.hash]);
      return true;
    });
  }

  async copyLogEntry(entry: TakedownLogEntry): Promise<boolean> {
    return ((await this.query(sql.copyLog, [entry.at, entry.action, entry.hash, entry.reason, entry.images])).rowCount ?? 0) > 0;
  }

  private async query(text: string, values: unknown[] = []): Promise<pg.QueryResult> {
    try {
      return await this.pool.query(text, values);
    } catch (err) {
      throw this.translate(err);
    }
  }

  /** Nothing is written before a null answer (no record, no takedown), so every transaction commits. */
  private transaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    return inTransaction(this.pool, this.translate, work);
  }
}
