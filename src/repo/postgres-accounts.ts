// Users and API keys in the shared PostgreSQL database (postgres.ts opens the pool and runs the
// migrations). A quota holds across nodes: each owned insert locks its owner's row first.
import type pg from 'pg';
import type { PoolClient, QueryResult } from 'pg';
import { WrongUploadToken } from '../errors.js';
import { RECORD_COLUMNS, toRecord, type ImageRow } from './columns.js';
import { inTransaction } from './postgres-transaction.js';
import type { ImageRecord } from './index.js';
import { assertRoom, LAST_USE_EVERY_MS, sameHash, type AccountRepo, type ApiKey, type Limits, type NewApiKey, type StoredApiKey, type Usage, type User } from './accounts.js';

// BIGINT arrives as a string.
interface UserRow { id: string; name: string; quota_bytes: string | null; max_images: string | null; created_at: Date }
interface KeyRow { id: string; user_id: string; user_name: string; label: string | null; created_at: Date; last_used_at: Date | null }

const USER_COLUMNS = 'id, name, quota_bytes, max_images, created_at';
const orNull = (value: string | null): number | null => (value === null ? null : Number(value));
const toUser = (r: UserRow): User =>
  ({ id: r.id, name: r.name, quotaBytes: orNull(r.quota_bytes), maxImages: orNull(r.max_images), createdAt: r.created_at });
const toKey = (r: KeyRow): ApiKey =>
  ({ id: r.id, userId: r.user_id, userName: r.user_name, label: r.label, createdAt: r.created_at, lastUsedAt: r.last_used_at });
const toUsage = (r: { bytes: string; images: string } | undefined): Usage => ({ bytes: Number(r?.bytes ?? 0), images: Number(r?.images ?? 0) });

const USAGE = 'SELECT COALESCE(SUM(orig_bytes), 0) AS bytes, COUNT(*) AS images FROM images WHERE owner_id = $1';

export class PostgresAccounts implements AccountRepo {
  /** `translate`: the image repository's mapping of connection failures to Unavailable. */
  constructor(private readonly pool: pg.Pool, private readonly translate: (err: unknown) => unknown) {}

  private async query<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<QueryResult<R>> {
    try {
      return await this.pool.query<R>(text, values);
    } catch (err) {
      throw this.translate(err);
    }
  }

  async addUser(user: User): Promise<void> {
    await this.query(`INSERT INTO users (${USER_COLUMNS}) VALUES ($1, $2, $3, $4, $5)`,
      [user.id, user.name, user.quotaBytes, user.maxImages, user.createdAt]);
  }

  async users(): Promise<User[]> {
    return (await this.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users ORDER BY name`)).rows.map(toUser);
  }

  async userByName(name: string): Promise<User | null> {
    const [row] = (await this.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE name = $1`, [name])).rows;
    return row ? toUser(row) : null;
  }

  async user(id: string): Promise<User | null> {
    const [row] = (await this.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE id = $1`, [id])).rows;
    return row ? toUser(row) : null;
  }

  async setLimits(id: string, { quotaBytes, maxImages }: Partial<Limits>): Promise<void> {
    await this.query(`UPDATE users SET quota_bytes = CASE WHEN $2 THEN $3::bigint ELSE quota_bytes END,
      max_images = CASE WHEN $4 THEN $5::bigint ELSE max_images END WHERE id = $1`,
    [id, quotaBytes !== undefined, quotaBytes ?? null, maxImages !== undefined, maxImages ?? null]);
  }

  async removeUser(id: string): Promise<ImageRecord[]> {
    let disowned: ImageRecord[] = [];
    await inTransaction(this.pool, this.translate, async (client) => {
      // The row an owned insert locks (withinQuota) first: an insert holding it commits before the
      // images are disowned, and one after finds no owner. Without it, an insert committing between
      // the update and the delete would name a user who is gone (owner_id has no foreign key).
      await client.query('SELECT id FROM users WHERE id = $1 FOR UPDATE', [id]);
      disowned = (await client.query<ImageRow<string, Date>>(`UPDATE images SET owner_id = NULL WHERE owner_id = $1
        RETURNING ${RECORD_COLUMNS}`, [id])).rows.map(toRecord);
      await client.query('DELETE FROM users WHERE id = $1', [id]);
    });
    return disowned;
  }

  async hasUsers(): Promise<boolean> {
    return (await this.query<{ any: boolean }>('SELECT EXISTS (SELECT 1 FROM users) AS any')).rows[0]?.any === true;
  }

  async addKey(key: NewApiKey): Promise<void> {
    await this.query('INSERT INTO api_keys (id, user_id, key_hash, label, created_at) VALUES ($1, $2, $3, $4, $5)',
      [key.id, key.userId, key.keyHash, key.label, key.createdAt]);
  }

  async keys(userId?: string): Promise<ApiKey[]> {
    const { rows } = await this.query<KeyRow>(`SELECT k.id, k.user_id, u.name AS user_name, k.label, k.created_at, k.last_used_at
      FROM api_keys k JOIN users u ON u.id = k.user_id WHERE $1::text IS NULL OR k.user_id = $1 ORDER BY k.created_at, k.id`, [userId ?? null]);
    return rows.map(toKey);
  }

  async revokeKey(id: string): Promise<boolean> {
    return ((await this.query('DELETE FROM api_keys WHERE id = $1', [id])).rowCount ?? 0) > 0;
  }

  async findKey(keyHash: string): Promise<User | null> {
    const [row] = (await this.query<{ key_id: string; key_hash: string } & UserRow>(`SELECT k.id AS key_id, k.key_hash,
      u.id, u.name, u.quota_bytes, u.max_images, u.created_at FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.key_hash = $1`,
    [keyHash])).rows;
    if (!row || !sameHash(row.key_hash, keyHash)) return null;
    await this.query(`UPDATE api_keys SET last_used_at = now() WHERE id = $1
      AND (last_used_at IS NULL OR last_used_at < now() - $2::double precision * interval '1 millisecond')`, [row.key_id, LAST_USE_EVERY_MS]);
    return toUser(row);
  }

  async usage(userId: string): Promise<Usage> {
    return toUsage((await this.query<{ bytes: string; images: string }>(USAGE, [userId])).rows[0]);
  }

  async imagesOf(userId: string, limit: number, before = Number.MAX_SAFE_INTEGER): Promise<ImageRecord[]> {
    const { rows } = await this.query<ImageRow<string, Date>>(`SELECT ${RECORD_COLUMNS} FROM images
      WHERE owner_id = $1 AND ready AND seq < $2 ORDER BY seq DESC LIMIT $3`, [userId, before, limit]);
    return rows.map(toRecord);
  }

  async storedKeys(): Promise<StoredApiKey[]> {
    const { rows } = await this.query<{ id: string; user_id: string; key_hash: string; label: string | null; created_at: Date; last_used_at: Date | null }>(
      'SELECT id, user_id, key_hash, label, created_at, last_used_at FROM api_keys ORDER BY created_at, id');
    return rows.map((r) => ({ id: r.id, userId: r.user_id, keyHash: r.key_hash, label: r.label, createdAt: r.created_at, lastUsedAt: r.last_used_at }));
  }

  async copyUser(user: User): Promise<boolean> {
    return ((await this.query(`INSERT INTO users (${USER_COLUMNS}) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
      [user.id, user.name, user.quotaBytes, user.maxImages, user.createdAt])).rowCount ?? 0) > 0;
  }

  async copyKey(key: StoredApiKey): Promise<boolean> {
    return ((await this.query(`INSERT INTO api_keys (id, user_id, key_hash, label, created_at, last_used_at)
      VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`, [key.id, key.userId, key.keyHash, key.label, key.createdAt, key.lastUsedAt])).rowCount ?? 0) > 0;
  }

  /**
   * Runs `insert` on the transaction's connection if one more image of `bytes` fits the owner's
   * quota. The owner's row is locked first (FOR UPDATE), so uploads of one user on every node
   * take turns between the sum and the insert, and the sum, read after the lock, sees every
   * insert committed before it. Throws QuotaExceeded, inserting nothing, when it does not fit.
   */
  async withinQuota(ownerId: string, bytes: number, insert: (client: PoolClient) => Promise<unknown>): Promise<void> {
    await inTransaction(this.pool, this.translate, async (client) => {
      const [row] = (await client.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE id = $1 FOR UPDATE`, [ownerId])).rows;
      // The user was removed while the upload was received: their key is no longer valid.
      if (!row) throw new WrongUploadToken();
      assertRoom(toUser(row), toUsage((await client.query<{ bytes: string; images: string }>(USAGE, [ownerId])).rows[0]), bytes);
      await insert(client);
    });
  }
}
