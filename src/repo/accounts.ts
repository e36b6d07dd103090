// Users, their API keys and what they store: the repository the CLI's `users`/`keys` commands and
// the HTTP key check use. Adapters: sqlite-accounts.ts and postgres-accounts.ts, reached as
// `repo.accounts`. A quota is checked by the image repository's insertPending, in the same
// transaction as the insert (see withinQuota), so concurrent uploads never take a user past it.
import { timingSafeEqual } from 'node:crypto';
import { formatBytes } from '../bytes.js';
import { QuotaExceeded } from '../errors.js';
import type { ImageRecord } from './index.js';

/** What a user may store; null is no limit. */
export interface Limits {
  quotaBytes: number | null;
  maxImages: number | null;
}

export interface User extends Limits {
  id: string;
  name: string;
  createdAt: Date;
}

/**
 * What counts against a quota: the originals of the user's images, pending or ready, each counted
 * in full even when its bytes are shared with another image (dedup saves disk, not quota).
 * Thumbnails and variants are not counted.
 */
export interface Usage {
  bytes: number;
  images: number;
}

export interface ApiKey {
  id: string;
  userId: string;
  userName: string;
  label: string | null;
  createdAt: Date;
  lastUsedAt: Date | null;
}

/** A key as stored: only the SHA-256 of the key itself, in hex. */
export interface NewApiKey {
  id: string;
  userId: string;
  keyHash: string;
  label: string | null;
  createdAt: Date;
}

/** A key as stored, with its last use: what migrate-db copies. */
export interface StoredApiKey extends NewApiKey {
  lastUsedAt: Date | null;
}

export interface AccountRepo {
  addUser(user: User): Promise<void>;
  /** By name. */
  users(): Promise<User[]>;
  userByName(name: string): Promise<User | null>;
  user(id: string): Promise<User | null>;
  /** Sets the limits given; an undefined one is left as it is. */
  setLimits(id: string, limits: Partial<Limits>): Promise<void>;
  /**
   * Removes the user and their keys; their images, pending or ready, stay, anonymous, and are
   * returned. Atomic with owned inserts: an upload of theirs commits before, and is among those
   * returned, or finds its owner gone and inserts nothing.
   */
  removeUser(id: string): Promise<ImageRecord[]>;
  addKey(key: NewApiKey): Promise<void>;
  /** Of one user, or of all; oldest first. */
  keys(userId?: string): Promise<ApiKey[]>;
  /** False when there was no such key. */
  revokeKey(id: string): Promise<boolean>;
  /** The user a key (given by its hash) belongs to, noting its use; null for no such key. */
  findKey(keyHash: string): Promise<User | null>;
  usage(userId: string): Promise<Usage>;
  /** The user's ready images, listed or not, newest first; `before` is a cursor (a record's seq). */
  imagesOf(userId: string, limit: number, before?: number): Promise<ImageRecord[]>;
  /** Every key as stored, oldest first (for migrate-db). */
  storedKeys(): Promise<StoredApiKey[]>;
  /** Whether there is any user (the upload page then offers a key field). */
  hasUsers(): Promise<boolean>;
  /** Adds a copy of a user unless one of that id or name is there; false when one was. */
  copyUser(user: User): Promise<boolean>;
  /** Adds a copy of a key unless one of that id or hash is there; false when one was. */
  copyKey(key: StoredApiKey): Promise<boolean>;
}

/** A key's last use is written at most this often: a busy uploader would otherwise write on every request. */
export const LAST_USE_EVERY_MS = 60_000;

/**
 * Throws QuotaExceeded, in words a person reads, when one more image of `bytes` would go over
 * `limits`. Without `bytes`, whether any image still fits: the cheap check made before an upload
 * is received; the one that holds is made with its size, in the insert's transaction.
 */
export function assertRoom(limits: Limits, usage: Usage, bytes?: number): void {
  if (limits.maxImages !== null && usage.images + 1 > limits.maxImages) {
    throw new QuotaExceeded(`${String(usage.images)} of ${String(limits.maxImages)} images stored`);
  }
  if (limits.quotaBytes !== null && usage.bytes + (bytes ?? 1) > limits.quotaBytes) {
    const used = `${formatBytes(usage.bytes)} of ${formatBytes(limits.quotaBytes)} used`;
    throw new QuotaExceeded(bytes === undefined ? used : `${used}; this file is ${formatBytes(bytes)}`);
  }
}

/** Whether the hash a key lookup found is the one given: compared in constant time, the index having only narrowed the search. */
export const sameHash = (stored: string, given: string): boolean =>
  stored.length === given.length && timingSafeEqual(Buffer.from(stored), Buffer.from(given));
