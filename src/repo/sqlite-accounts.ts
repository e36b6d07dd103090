// Users and API keys in the embedded SQLite database (sqlite.ts opens it and runs the migrations).
// Times are milliseconds since the epoch, as in the images table.
import type Database from 'better-sqlite3';
import { storageFailure, WrongUploadToken } from '../errors.js';
import { RECORD_COLUMNS, toRecord, type ImageRow } from './columns.js';
import type { ImageRecord } from './index.js';
import { assertRoom, LAST_USE_EVERY_MS, sameHash, type AccountRepo, type ApiKey, type Limits, type NewApiKey, type StoredApiKey, type Usage, type User } from './accounts.js';

interface UserRow { id: string; name: string; quota_bytes: number | null; max_images: number | null; created_at: number }
interface KeyRow { id: string; user_id: string; user_name: string; label: string | null; created_at: number; last_used_at: number | null }

interface StoredKeyRow { id: string; user_id: string; key_hash: string; label: string | null; created_at: number; last_used_at: number | null }

const USER_COLUMNS = 'id, name, quota_bytes, max_images, created_at';
const STORED_KEY_COLUMNS = 'id, user_id, key_hash, label, created_at, last_used_at';
const KEY_COLUMNS = 'k.id, k.user_id, u.name AS user_name, k.label, k.created_at, k.last_used_at';

const toUser = (r: UserRow): User =>
  ({ id: r.id, name: r.name, quotaBytes: r.quota_bytes, maxImages: r.max_images, createdAt: new Date(r.created_at) });
const toKey = (r: KeyRow): ApiKey => ({
  id: r.id, userId: r.user_id, userName: r.user_name, label: r.label,
  createdAt: new Date(r.created_at), lastUsedAt: r.last_used_at === null ? null : new Date(r.last_used_at),
});

export class SqliteAccounts implements AccountRepo {
  private readonly stmts;

  constructor(private readonly db: Database.Database) {
    this.stmts = {
      addUser: db.prepare(`INSERT INTO users (${USER_COLUMNS}) VALUES (?, ?, ?, ?, ?)`),
      copyUser: db.prepare(`INSERT INTO users (${USER_COLUMNS}) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`),
      storedKeys: db.prepare<[], StoredKeyRow>(`SELECT ${STORED_KEY_COLUMNS} FROM api_keys ORDER BY created_at, id`),
      copyKey: db.prepare(`INSERT INTO api_keys (${STORED_KEY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`),
      users: db.prepare<[], UserRow>(`SELECT ${USER_COLUMNS} FROM users ORDER BY name`),
      byName: db.prepare<[string], UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE name = ?`),
      byId: db.prepare<[string], UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE id = ?`),
      setQuota: db.prepare('UPDATE users SET quota_bytes = ? WHERE id = ?'),
      setMaxImages: db.prepare('UPDATE users SET max_images = ? WHERE id = ?'),
      disown: db.prepare<[string], ImageRow<number, number>>(`UPDATE images SET owner_id = NULL WHERE owner_id = ? RETURNING ${RECORD_COLUMNS}`),
      anyUser: db.prepare<[], { any: number }>('SELECT EXISTS (SELECT 1 FROM users) AS any'),
      // Foreign keys are not enforced on this connection (SQLite's default): the keys go by hand.
      removeKeys: db.prepare('DELETE FROM api_keys WHERE user_id = ?'),
      removeUser: db.prepare('DELETE FROM users WHERE id = ?'),
      addKey: db.prepare('INSERT INTO api_keys (id, user_id, key_hash, label, created_at) VALUES (?, ?, ?, ?, ?)'),
      keys: db.prepare<[string | null, string | null], KeyRow>(`SELECT ${KEY_COLUMNS} FROM api_keys k JOIN users u ON u.id = k.user_id
        WHERE ? IS NULL OR k.user_id = ? ORDER BY k.created_at, k.id`),
      revoke: db.prepare('DELETE FROM api_keys WHERE id = ?'),
      findKey: db.prepare<[string], { key_id: string; key_hash: string } & UserRow>(`SELECT k.id AS key_id, k.key_hash,
        u.id, u.name, u.quota_bytes, u.max_images, u.created_at FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.key_hash = ?`),
      used: db.prepare('UPDATE api_keys SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)'),
      usage: db.prepare<[string], Usage>('SELECT COALESCE(SUM(orig_bytes), 0) AS bytes, COUNT(*) AS images FROM images WHERE owner_id = ?'),
      imagesOf: db.prepare<[string, number, number], ImageRow<number, number>>(`SELECT ${RECORD_COLUMNS} FROM images
        WHERE owner_id = ? AND ready = 1 AND seq < ? ORDER BY seq DESC LIMIT ?`),
    };
  }

  addUser(user: User): Promise<void> {
    return this.run(() => { this.stmts.addUser.run(user.id, user.name, user.quotaBytes, user.maxImages, user.createdAt.getTime()); });
  }

  users(): Promise<User[]> {
    return this.run(() => this.stmts.users.all().map(toUser));
  }

  userByName(name: string): Promise<User | null> {
    return this.run(() => { const row = this.stmts.byName.get(name); return row ? toUser(row) : null; });
  }

  user(id: string): Promise<User | null> {
    return this.run(() => { const row = this.stmts.byId.get(id); return row ? toUser(row) : null; });
  }

  setLimits(id: string, { quotaBytes, maxImages }: Partial<Limits>): Promise<void> {
    return this.run(() => {
      this.db.transaction(() => {
        if (quotaBytes !== undefined) this.stmts.setQuota.run(quotaBytes, id);
        if (maxImages !== undefined) this.stmts.setMaxImages.run(maxImages, id);
      })();
    });
  }

  removeUser(id: string): Promise<ImageRecord[]> {
    // With the write lock from the start, as an owned insert takes it (withinQuota): one commits
    // wholly before the other.
    return this.run(() => this.db.transaction(() => {
      const disowned = this.stmts.disown.all(id).map(toRecord);
      this.stmts.removeKeys.run(id);
      this.stmts.removeUser.run(id);
      return disowned;
    }).immediate());
  }

  hasUsers(): Promise<boolean> {
    return this.run(() => this.stmts.anyUser.get()?.any === 1);
  }

  addKey(key: NewApiKey): Promise<void> {
    return this.run(() => { this.stmts.addKey.run(key.id, key.userId, key.keyHash, key.label, key.createdAt.getTime()); });
  }

  keys(userId?: string): Promise<ApiKey[]> {
    return this.run(() => this.stmts.keys.all(userId ?? null, userId ?? null).map(toKey));
  }

  revokeKey(id: string): Promise<boolean> {
    return this.run(() => this.stmts.revoke.run(id).changes > 0);
  }

  findKey(keyHash: string): Promise<User | null> {
    return this.run(() => {
      const row = this.stmts.findKey.get(keyHash);
      if (!row || !sameHash(row.key_hash, keyHash)) return null;
      const now = Date.now();
      this.stmts.used.run(now, row.key_id, now - LAST_USE_EVERY_MS);
      return toUser(row);
    });
  }

  usage(userId: string): Promise<Usage> {
    return this.run(() => this.stmts.usage.get(userId) ?? { bytes: 0, images: 0 });
  }

  imagesOf(userId: string, limit: number, before = Number.MAX_SAFE_INTEGER): Promise<ImageRecord[]> {
    return this.run(() => this.stmts.imagesOf.all(userId, before, limit).map(toRecord));
  }

  storedKeys(): Promise<StoredApiKey[]> {
    return this.run(() => this.stmts.storedKeys.all().map((r) => ({
      id: r.id, userId: r.user_id, keyHash: r.key_hash, label: r.label,
      createdAt: new Date(r.created_at), lastUsedAt: r.last_used_at === null ? null : new Date(r.last_used_at),
    })));
  }

  copyUser(user: User): Promise<boolean> {
    return this.run(() => this.stmts.copyUser.run(user.id, user.name, user.quotaBytes, user.maxImages, user.createdAt.getTime()).changes > 0);
  }

  copyKey(key: StoredApiKey): Promise<boolean> {
    return this.run(() => this.stmts.copyKey.run(key.id, key.userId, key.keyHash, key.label, key.createdAt.getTime(),
      key.lastUsedAt?.getTime() ?? null).changes > 0);
  }

  /**
   * Runs `insert` if one more image of `bytes` fits the owner's quota, in one transaction that
   * takes the write lock first (BEGIN IMMEDIATE): no other process's insert can come between the
   * sum and the insert. Throws QuotaExceeded, inserting nothing, when it does not fit.
   */
  withinQuota(ownerId: string, bytes: number, insert: () => void): void {
    this.db.transaction(() => {
      const row = this.stmts.byId.get(ownerId);
      // The user was removed while the upload was received: their key is no longer valid.
      if (!row) throw new WrongUploadToken();
      assertRoom(toUser(row), this.stmts.usage.get(ownerId) ?? { bytes: 0, images: 0 }, bytes);
      insert();
    }).immediate();
  }

  /** As promises, like the image repository's, with a full or read-only disk named by its catalogue error. */
  private run<T>(work: () => T): Promise<T> {
    return new Promise<T>((resolve) => { resolve(work()); }).catch((err: unknown) => { throw storageFailure(err); });
  }
}
