// The metadata repository: the `imgs` collection of the original, one record per upload linking
// the original blob and its thumbnail. Adapters: sqlite.ts (embedded default), postgres.ts
// (shared by several nodes).
import type { AccountRepo } from './accounts.js';
import type { IntegrityRepo } from './integrity.js';
import type { TakedownRepo } from './takedowns.js';
import type { VisibilityRepo } from './visibility.js';

export interface BlobRef {
  /** SHA-256 of the bytes, hex; also the blob's key in the store. */
  hash: string;
  bytes: number;
  mime: string;
}

export interface ImageRecord {
  id: string;
  /** Opaque, increasing: the pagination cursor. */
  seq: number;
  createdAt: Date;
  /** The client's file name, for display only. */
  name: string | null;
  format: string;
  width: number;
  height: number;
  orig: BlobRef;
  thumb: BlobRef & { width: number; height: number };
  /** Size and format the thumbnail was made with, so a duplicate upload can reuse it. */
  thumbSpec: string;
  deleteTokenHash: string;
  /** Frames of an animation; 1 for a still image, and for an image whose frames are not counted yet. */
  frames: number;
  /**
   * Set on a record stored before frames were counted at upload (0 in the database), until the
   * server counts them (backfill-frames.ts). A copy of the record (migrate-db) stays uncounted.
   */
  framesUncounted?: true;
  /** A tiny blurred preview to show while the image loads (ThumbHash, base64), when one was made. */
  placeholder: string | null;
  /** The id of the user whose key uploaded it; null for an anonymous upload. */
  owner: string | null;
  /** Left out of the public listing; served to whoever has its links. */
  unlisted: boolean;
  /** When it is gone (410), if it expires. */
  expiresAt: Date | null;
  /** Successful GETs of the original it is served to before it is gone (410), if limited. */
  maxViews: number | null;
}

export type NewImage = Omit<ImageRecord, 'seq'>;

/** What an uploader decides about an image besides its bytes: whose it is, who sees it, for how long. */
export type ImageTerms = Pick<ImageRecord, 'owner' | 'unlisted' | 'expiresAt' | 'maxViews'>;

/** An anonymous upload, listed, kept until deleted. */
export const DEFAULT_TERMS: ImageTerms = { owner: null, unlisted: false, expiresAt: null, maxViews: null };

/** What counting the frames of a record needs; `seq` is the cursor of uncountedFrames. */
export interface UncountedFrames {
  seq: number;
  id: string;
  ready: boolean;
  format: string;
  origHash: string;
}

/**
 * A resized, re-encoded rendition of an original, shared by every image with that original:
 * keyed by the original's hash and the spec it was made with (variants/spec.ts).
 */
export interface VariantRecord extends BlobRef {
  origHash: string;
  spec: string;
  width: number;
  height: number;
  createdAt: Date;
}

/**
 * A pending record belongs to a live upload only while its lease lasts; the upload renews it
 * every `renewEveryMs` (upload-lease.ts) and gc removes only records whose lease ran out. Six
 * renewals fit in one lease, so a renewal may fail or wait out a database timeout (db_timeout,
 * 5 s by default) several times before a live upload could lose its record; and a dead upload
 * is collected half a minute after it died, whatever gc_grace says.
 */
export const PENDING_LEASE = { durationMs: 30_000, renewEveryMs: 5_000 } as const;

/** A key's hits in its current window, and the milliseconds left in that window. */
export interface HitCount { hits: number; ttlMs: number }

/** Counts hits per key in fixed windows, for rate limits. */
export interface HitCounter {
  /** Counts one hit on `prefix` + `key` (the prefix names the limit); a window over starts a new one. */
  countHit(prefix: string, key: string, windowMs: number): Promise<HitCount>;
}

export interface ImageRepo {
  /**
   * Hit counts every process using this store shares (PostgreSQL): rate limits then hold across
   * nodes. Absent where each process counts on its own (SQLite).
   */
  readonly sharedHits?: HitCounter;
  /** Bytes the operator took down, and what their takedowns removed (takedowns.ts). */
  readonly takedowns: TakedownRepo;
  /** The public listing, counted views and expiry (visibility.ts). */
  readonly visibility: VisibilityRepo;
  /** Users, their API keys and what they store (accounts.ts). */
  readonly accounts: AccountRepo;
  /** The rules the records keep, checked by imghost verify (integrity.ts). */
  readonly integrity: IntegrityRepo;
  /** Throws when the store cannot be reached. */
  ping(): Promise<void>;
  /**
   * Records an upload whose blobs are about to be written. A pending record is invisible to
   * readers but counts as a reference, so no concurrent delete can remove the blobs it needs.
   * An owned image is inserted only if it fits its owner's quota, checked in the same transaction
   * (QuotaExceeded otherwise, inserting nothing), unless `copy` says it is a copy of a record
   * stored already (migrate-db), which is kept whatever the quota says now.
   */
  insertPending(image: NewImage, leaseMs?: number, copy?: { copy: true }): Promise<void>;
  /** Extends the leases of these pending records to `leaseMs` from now (ready or missing ones are skipped). */
  renewLeases(ids: readonly string[], leaseMs: number): Promise<void>;
  /**
   * Makes a pending record visible, once its blobs are durable; false when the record is gone
   * (its lease ran out and gc removed it), and then the upload must not be acknowledged.
   */
  markReady(id: string): Promise<boolean>;
  get(id: string): Promise<ImageRecord | null>;
  /** Newest first; `before` is a cursor (a record's seq) from an earlier page. */
  list(limit: number, before?: number): Promise<ImageRecord[]>;
  /** A ready image with the same original and thumbnail settings, to skip the work for a duplicate. */
  findDuplicate(origHash: string, thumbSpec: string): Promise<ImageRecord | null>;
  /** Deletes the record whatever its state; false when it was not there. */
  remove(id: string): Promise<boolean>;
  /** Whether any record, pending or ready, or any variant refers to this blob. */
  isReferenced(hash: string): Promise<boolean>;
  /** Pending records created before `olderThan`, leased or not (for tools that inspect a library at rest). */
  stalePending(olderThan: Date): Promise<ImageRecord[]>;
  /**
   * Deletes the pending records whose lease has run out (uploads that died half-way) and returns
   * them. One statement per record set: a record made ready meanwhile is never taken.
   */
  removeExpiredPending(): Promise<ImageRecord[]>;
  /** Every blob hash any record refers to, variants included (for backup). */
  referencedHashes(): Promise<Set<string>>;
  /**
   * Which of these hashes a record, pending or ready, or a variant refers to (for gc, which asks
   * about the stored blobs a batch at a time). One statement, however many hashes.
   */
  referencedAmong(hashes: readonly string[]): Promise<Set<string>>;
  getVariant(origHash: string, spec: string): Promise<VariantRecord | null>;
  /** Every variant recorded for an original (for verify, backup and migrate-db). */
  variantsOf(origHash: string): Promise<VariantRecord[]>;
  /**
   * Records a variant unless one of that original and spec is recorded already (another request
   * or node made it first), and answers the one recorded.
   */
  insertVariant(variant: VariantRecord): Promise<VariantRecord>;
  /** Forgets a variant whose blob is `hash` (it went missing and is made again). */
  removeVariant(origHash: string, spec: string, hash: string): Promise<void>;
  /**
   * Deletes and returns the variants of originals no image (pending or ready) has any more: of
   * `origHash` only, or of every original when it is not given (gc).
   */
  removeOrphanVariants(origHash?: string): Promise<VariantRecord[]>;
  /** Records, pending or ready, whose frames are not counted yet, after the cursor `after`, oldest first. */
  uncountedFrames(limit: number, after?: number): Promise<UncountedFrames[]>;
  /**
   * Records the frames of a record that has none counted yet; false when it has (another node
   * counted them first) or is gone. Never overwrites a count.
   */
  setFrames(id: string, frames: number): Promise<boolean>;
  close(): Promise<void>;
}

/** Records read at a time by readyRecords. */
const PAGE = 1000;

/** Every ready image record, newest first. */
export async function readyRecords(repo: ImageRepo): Promise<ImageRecord[]> {
  const records: ImageRecord[] = [];
  for (let page = await repo.list(PAGE); page.length > 0; page = await repo.list(PAGE, page.at(-1)?.seq)) {
    records.push(...page);
  }
  return records;
}
