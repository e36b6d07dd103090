// The shared metadata store: PostgreSQL through a pool of `pg` connections, so several imghost
// nodes can serve one library. Same records and semantics as sqlite.ts; seq is the cursor.
import pg from 'pg';
import type { PoolClient, QueryResult } from 'pg';
import { Unavailable } from '../errors.js';
import {
  INSERT_COLUMNS, INSERTED_COUNT, insertPlaceholders, insertValues, RECORD_COLUMNS as COLUMNS, toRecord, toUncounted, toVariant,
  UNCOUNTED_COLUMNS, VARIANT_COLUMNS, variantValues, type ImageRow, type UncountedRow, type VariantRow,
} from './columns.js';
import { PENDING_LEASE, type ImageRecord, type ImageRepo, type NewImage, type UncountedFrames, type VariantRecord } from './index.js';
import { PostgresRateLimits } from './postgres-rate-limits.js';
import { migrations } from './postgres-schema.js';
import { PostgresTakedowns } from './postgres-takedowns.js';
import { PostgresVisibility } from './postgres-visibility.js';
import { PostgresAccounts } from './postgres-accounts.js';
import { PostgresIntegrity } from './postgres-integrity.js';

/** Records read at a time by referencedHashes. */
const HASH_PAGE = 5000;

/** Advisory lock key serialising migrations across nodes: 'imghost' read as a 56-bit number. */
const MIGRATION_LOCK = '29675163455812468';

// Each is sent once per connection as a named prepared statement, then only executed.
const sql = {
  ping: 'SELECT 1',
  insert: `INSERT INTO images (${INSERT_COLUMNS}, ready, lease_until)
    VALUES (${insertPlaceholders((n) => `$${String(n)}`)}, FALSE,
      now() + $${String(INSERTED_COUNT + 1)}::double precision * interval '1 millisecond')`,
  renew: `UPDATE images SET lease_until = now() + $2::double precision * interval '1 millisecond'
    WHERE id = ANY($1::text[]) AND NOT ready`,
  markReady: 'UPDATE images SET ready = TRUE WHERE id = $1',
  get: `SELECT ${COLUMNS} FROM images WHERE id = $1 AND ready`,
  list: `SELECT ${COLUMNS} FROM images WHERE ready AND seq < $1 ORDER BY seq DESC LIMIT $2`,
  duplicate: `SELECT ${COLUMNS} FROM images WHERE orig_hash = $1 AND thumb_spec = $2 AND ready LIMIT 1`,
  remove: 'DELETE FROM images WHERE id = $1',
  referenced: `SELECT EXISTS (SELECT 1 FROM images WHERE orig_hash = $1)
    OR EXISTS (SELECT 1 FROM images WHERE thumb_hash = $1) OR EXISTS (SELECT 1 FROM variants WHERE hash = $1) AS referenced`,
  stale: `SELECT ${COLUMNS} FROM images WHERE NOT ready AND created_at < $1`,
  expired: `DELETE FROM images WHERE NOT ready AND lease_until < now() RETURNING ${COLUMNS}`,
  referencedAmong: `SELECT orig_hash AS hash FROM images WHERE orig_hash = ANY($1::text[])
    UNION SELECT thumb_hash FROM images WHERE thumb_hash = ANY($1::text[])
    UNION SELECT hash FROM variants WHERE hash = ANY($1::text[])`,
  hashes: 'SELECT seq, orig_hash, thumb_hash FROM images WHERE seq > $1 ORDER BY seq LIMIT $2',
  variantHashes: `SELECT orig_hash, spec, hash FROM variants WHERE (orig_hash, spec) > ($1, $2)
    ORDER BY orig_hash, spec LIMIT $3`,
  getVariant: `SELECT ${VARIANT_COLUMNS} FROM variants WHERE orig_hash = $1 AND spec = $2`,
  variantsOf: `SELECT ${VARIANT_COLUMNS} FROM variants WHERE orig_hash = $1 ORDER BY spec`,
  insertVariant: `INSERT INTO variants (${VARIANT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
  removeVariant: 'DELETE FROM variants WHERE orig_hash = $1 AND spec = $2 AND hash = $3',
  orphanVariants: `DELETE FROM variants WHERE ($1::text IS NULL OR orig_hash = $1)
    AND NOT EXISTS (SELECT 1 FROM images WHERE images.orig_hash = variants.orig_hash) RETURNING ${VARIANT_COLUMNS}`,
  uncounted: `SELECT ${UNCOUNTED_COLUMNS} FROM images WHERE frames = 0 AND seq > $1 ORDER BY seq LIMIT $2`,
  setFrames: 'UPDATE images SET frames = $2 WHERE id = $1 AND frames = 0',
} as const;

// BIGINT arrives as a string: pg will not guess whether it fits a JS number.
type Row = ImageRow<string, Date>;

// Failures of the connection or the server, not of the query: the client may retry later.
// 57P01-57P03: shut down or starting up; 57014: statement_timeout; 53300: too many connections;
// 08xxx: connection exceptions.
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN',
  '57P01', '57P02', '57P03', '57014', '53300',
]);
const UNAVAILABLE_MESSAGES = /timeout exceeded when trying to connect|Connection terminated|Query read timeout|connection error/i;

function isUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  // Connecting to a name with several addresses fails with one error per address.
  if (err instanceof AggregateError && err.errors.some(isUnavailable)) return true;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (UNAVAILABLE_CODES.has(code) || code.startsWith('08'))) return true;
  return UNAVAILABLE_MESSAGES.test(err.message);
}

function translate(err: unknown): unknown {
  if (!isUnavailable(err)) return err;
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: unknown }).code;
  const unavailable = new Unavailable('db', typeof code === 'string' && !message.includes(code) ? `${message} (${code})` : message);
  unavailable.cause = err;
  return unavailable;
}

export interface PostgresOptions {
  poolSize: number;
  /** Bounds connecting and each statement; past it a call fails with Unavailable. */
  timeoutMs: number;
}

export class PostgresRepo implements ImageRepo {
  private closing: Promise<void> | null = null;

  readonly sharedHits: PostgresRateLimits;
  readonly takedowns: PostgresTakedowns;
  readonly visibility: PostgresVisibility;
  readonly accounts: PostgresAccounts;
  readonly integrity: PostgresIntegrity;

  private constructor(private readonly pool: pg.Pool) {
    this.sharedHits = new PostgresRateLimits(pool);
    this.takedowns = new PostgresTakedowns(pool, translate);
    this.visibility = new PostgresVisibility(pool, translate);
    this.accounts = new PostgresAccounts(pool, translate);
    this.integrity = new PostgresIntegrity(pool, translate);
  }

  static async open(url: string, opts: PostgresOptions): Promise<PostgresRepo> {
    const pool = new pg.Pool({
      connectionString: url,
      max: opts.poolSize,
      connectionTimeoutMillis: opts.timeoutMs,
      statement_timeout: opts.timeoutMs,
      // The client-side bound is for a server that stops answering altogether. Later than the
      // server's own: its cancel (57014) keeps the connection, a client timeout throws it away.
      query_timeout: opts.timeoutMs + 1000,
      keepAlive: true,
      application_name: 'imghost',
    });
    // An idle connection the server drops (restart, failover) emits 'error' on the pool, which
    // would crash the process unhandled. The pool has already discarded that connection and
    // the next query opens a new one, so there is nothing more to do.
    pool.on('error', () => undefined);
    const repo = new PostgresRepo(pool);
    try {
      await repo.migrate();
    } catch (err) {
      await pool.end();
      throw translate(err);
    }
    return repo;
  }

  /** Applies pending migrations; the advisory lock makes nodes starting together take turns. */
  private async migrate(): Promise<void> {
    const client: PoolClient = await this.pool.connect();
    // A checked-out client's errors are ours to handle; the failing query rejects anyway.
    const ignore = (): void => undefined;
    client.on('error', ignore);
    let failed = false;
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`);
      const { rows } = await client.query<{ version: number | null }>('SELECT max(version) AS version FROM schema_migrations');
      for (let v = rows[0]?.version ?? 0; v < migrations.length; v++) {
        await client.query(migrations[v] ?? '');
        await client.query('INSERT INTO schema_migrations (version) VALUES ($1)', [v + 1]);
      }
      await client.query('COMMIT');
    } catch (err) {
      failed = true;
      await client.query('ROLLBACK').catch(ignore);
      throw err;
    } finally {
      client.removeListener('error', ignore);
      // A connection that failed mid-transaction is not trusted back into the pool.
      client.release(failed);
    }
  }

  private async query(name: keyof typeof sql, values: unknown[] = []): Promise<QueryResult> {
    try {
      // pool.query releases the connection with the error on failure, which discards it:
      // after a timeout or a reset the connection's state is unknown.
      return await this.pool.query({ name: `imghost_${name}`, text: sql[name], values });
    } catch (err) {
      throw translate(err);
    }
  }

  private async records(name: 'get' | 'list' | 'duplicate' | 'stale' | 'expired', values: unknown[]): Promise<ImageRecord[]> {
    return ((await this.query(name, values)).rows as Row[]).map(toRecord);
  }

  async ping(): Promise<void> {
    await this.query('ping');
  }

  async insertPending(image: NewImage, leaseMs: number = PENDING_LEASE.durationMs, copy?: { copy: true }): Promise<void> {
    const values = [...insertValues(image, (date) => date, (flag) => flag), leaseMs];
    if (image.owner === null || copy) await this.query('insert', values);
    else await this.accounts.withinQuota(image.owner, image.orig.bytes, (client) => client.query({ name: 'imghost_insert', text: sql.insert, values }));
  }

  async renewLeases(ids: readonly string[], leaseMs: number): Promise<void> {
    await this.query('renew', [ids, leaseMs]);
  }

  async markReady(id: string): Promise<boolean> {
    return ((await this.query('markReady', [id])).rowCount ?? 0) > 0;
  }

  async get(id: string): Promise<ImageRecord | null> {
    return (await this.records('get', [id]))[0] ?? null;
  }

  async list(limit: number, before = Number.MAX_SAFE_INTEGER): Promise<ImageRecord[]> {
    return this.records('list', [before, limit]);
  }

  async findDuplicate(origHash: string, thumbSpec: string): Promise<ImageRecord | null> {
    return (await this.records('duplicate', [origHash, thumbSpec]))[0] ?? null;
  }

  async remove(id: string): Promise<boolean> {
    return ((await this.query('remove', [id])).rowCount ?? 0) > 0;
  }

  async isReferenced(hash: string): Promise<boolean> {
    const [row] = (await this.query('referenced', [hash])).rows as { referenced: boolean }[];
    return row?.referenced === true;
  }

  async stalePending(olderThan: Date): Promise<ImageRecord[]> {
    return this.records('stale', [olderThan]);
  }

  async removeExpiredPending(): Promise<ImageRecord[]> {
    return this.records('expired', []);
  }

  async referencedAmong(hashes: readonly string[]): Promise<Set<string>> {
    if (hashes.length === 0) return new Set();
    const rows = (await this.query('referencedAmong', [hashes])).rows as { hash: string }[];
    return new Set(rows.map((row) => row.hash));
  }

  /**
   * Page by page, as SQLite reads them: one answer of every hash would be parsed in one go, and
   * with a million images that held the event loop for over a second and all its rows at once.
   */
  async referencedHashes(): Promise<Set<string>> {
    const set = new Set<string>();
    for (let after = '0'; ;) {
      const rows = (await this.query('hashes', [after, HASH_PAGE])).rows as { seq: string; orig_hash: string; thumb_hash: string }[];
      for (const row of rows) set.add(row.orig_hash).add(row.thumb_hash);
      const last = rows.at(-1);
      if (last === undefined) break;
      after = last.seq;
    }
    for (let after = ['', '']; ;) {
      const rows = (await this.query('variantHashes', [...after, HASH_PAGE])).rows as { orig_hash: string; spec: string; hash: string }[];
      for (const row of rows) set.add(row.hash);
      const last = rows.at(-1);
      if (last === undefined) break;
      after = [last.orig_hash, last.spec];
    }
    return set;
  }

  async getVariant(origHash: string, spec: string): Promise<VariantRecord | null> {
    const [row] = (await this.query('getVariant', [origHash, spec])).rows as VariantRow<string, Date>[];
    return row ? toVariant(row) : null;
  }

  async variantsOf(origHash: string): Promise<VariantRecord[]> {
    return ((await this.query('variantsOf', [origHash])).rows as VariantRow<string, Date>[]).map(toVariant);
  }

  async insertVariant(variant: VariantRecord): Promise<VariantRecord> {
    await this.query('insertVariant', variantValues(variant, (date) => date));
    return (await this.getVariant(variant.origHash, variant.spec)) ?? variant;
  }

  async removeVariant(origHash: string, spec: string, hash: string): Promise<void> {
    await this.query('removeVariant', [origHash, spec, hash]);
  }

  async removeOrphanVariants(origHash?: string): Promise<VariantRecord[]> {
    return ((await this.query('orphanVariants', [origHash ?? null])).rows as VariantRow<string, Date>[]).map(toVariant);
  }

  async uncountedFrames(limit: number, after = 0): Promise<UncountedFrames[]> {
    return ((await this.query('uncounted', [after, limit])).rows as UncountedRow<string>[]).map(toUncounted);
  }

  async setFrames(id: string, frames: number): Promise<boolean> {
    return ((await this.query('setFrames', [id, frames])).rowCount ?? 0) > 0;
  }

  close(): Promise<void> {
    // Closing twice is allowed (the server closes its library after a test may have).
    this.closing ??= this.pool.end();
    return this.closing;
  }
}
