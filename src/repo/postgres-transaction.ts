// One transaction on one connection of a PostgreSQL pool, for adapters whose operation is several
// statements that must all hold or none.
import type pg from 'pg';
import type { PoolClient } from 'pg';

/**
 * Runs `work` between BEGIN and COMMIT on a connection of `pool`, rolling back when it throws.
 * `translate` names a connection failure by the catalogue's Unavailable, as the repository does.
 */
export async function inTransaction<T>(pool: pg.Pool, translate: (err: unknown) => unknown, work: (client: PoolClient) => Promise<T>): Promise<T> {
  let client: PoolClient;
  try {
    client = await pool.connect();
  } catch (err) {
    throw translate(err);
  }
  // A checked-out connection's errors are ours to handle; the failing query rejects anyway.
  const ignore = (): void => undefined;
  client.on('error', ignore);
  let broken = false;
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    // A connection whose rollback fails is not trusted back into the pool.
    await client.query('ROLLBACK').catch(() => { broken = true; });
    throw translate(err);
  } finally {
    client.removeListener('error', ignore);
    client.release(broken);
  }
}
