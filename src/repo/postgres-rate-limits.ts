// Hit counts in fixed windows, kept in PostgreSQL's rate_limits table so that every node counting
// against one database draws on one allowance. One statement per hit, on the database's clock:
// nodes whose clocks disagree still agree on when a window started and ends. The table is
// UNLOGGED: a database crash empties it, which only forgives the hits counted so far.
import type pg from 'pg';
import type { HitCount, HitCounter } from './index.js';

// The row lock taken by ON CONFLICT DO UPDATE serialises concurrent hits on one key, so each
// sees the count the one before it left: no two hits get the same number, on any node.
const COUNT_HIT = `INSERT INTO rate_limits AS r (key, window_start, hits) VALUES ($1, now(), 1)
  ON CONFLICT (key) DO UPDATE SET
    hits = CASE WHEN r.window_start <= now() - $2::double precision * interval '1 millisecond' THEN 1 ELSE r.hits + 1 END,
    window_start = CASE WHEN r.window_start <= now() - $2::double precision * interval '1 millisecond' THEN now() ELSE r.window_start END
  RETURNING hits,
    ceil(extract(epoch FROM r.window_start + $2::double precision * interval '1 millisecond' - now()) * 1000)::double precision AS ttl_ms`;

// A key's row is overwritten by its next hit once its window is over; rows of clients that never
// come back are deleted here, so the table holds about one window's worth of clients.
const PRUNE = `DELETE FROM rate_limits
  WHERE starts_with(key, $1) AND window_start <= now() - $2::double precision * interval '1 millisecond'`;

export class PostgresRateLimits implements HitCounter {
  /** When each key prefix was last pruned (this process's clock). */
  private readonly prunedAt = new Map<string, number>();

  constructor(private readonly pool: pg.Pool) {}

  async countHit(prefix: string, key: string, windowMs: number): Promise<HitCount> {
    const { rows } = await this.pool.query<{ hits: number; ttl_ms: number }>(
      { name: 'imghost_count_hit', text: COUNT_HIT, values: [prefix + key, windowMs] });
    const row = rows[0];
    if (row === undefined) throw new Error('counting a hit returned no row');
    this.pruneOncePerWindow(prefix, windowMs);
    return { hits: row.hits, ttlMs: row.ttl_ms };
  }

  /** Deletes the rows of `prefix` whose window is over, now; for tests and the occasional sweep. */
  async prune(prefix: string, windowMs: number): Promise<number> {
    return (await this.pool.query({ name: 'imghost_prune_hits', text: PRUNE, values: [prefix, windowMs] })).rowCount ?? 0;
  }

  // In the background: a hit is never kept waiting for the sweep, and a failed sweep is retried
  // a window later (the rows it left are overwritten or swept then).
  private pruneOncePerWindow(prefix: string, windowMs: number): void {
    const now = Date.now();
    if (now - (this.prunedAt.get(prefix) ?? 0) < windowMs) return;
    this.prunedAt.set(prefix, now);
    this.prune(prefix, windowMs).catch(() => undefined);
  }
}
