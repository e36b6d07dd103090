// Takedowns: originals the operator refuses for good, by the SHA-256 imghost stores them under
// (after metadata stripping: the hash of the file /imgs/<id> serves). Taking one down removes every
// image record with that original at once, remembers their ids so their links answer 410 rather
// than 404, and writes the audit log. Adapters: sqlite-takedowns.ts, postgres-takedowns.ts.
import type { ImageRecord } from './index.js';

export interface Takedown {
  hash: string;
  reason: string | null;
  /** When the bytes were first taken down (a later takedown of the same bytes keeps it). */
  createdAt: Date;
  /** Image records the takedowns of these bytes removed. */
  images: number;
}

export interface TakedownLogEntry {
  seq: number;
  at: Date;
  action: 'takedown' | 'undo';
  hash: string;
  reason: string | null;
  /** Records removed (takedown), or ids whose links were given back to 404 (undo). */
  images: number;
}

export interface TakedownRepo {
  /**
   * Refuses the hash from now on (a reason given again replaces the old one) and logs it; deletes
   * every image record, pending or ready, whose original is `hash`, in one statement, and
   * remembers their ids. The refusal commits no later than the delete: an upload that committed
   * its pending record and then found the hash not refused is always deleted. Answers the removed
   * records, or null, writing nothing, when no record has that original and it is not taken down
   * already.
   */
  takeDown(hash: string, reason: string | null): Promise<ImageRecord[] | null>;
  /**
   * Lifts the refusal of `hash` and forgets the ids it removed (their links answer 404 again),
   * and logs it; the number of those ids, or null when `hash` is not taken down.
   */
  undo(hash: string, reason: string | null): Promise<number | null>;
  /** Whether an upload of these stored bytes is refused. */
  isRefused(hash: string): Promise<boolean>;
  /** The takedown that removed the image `id`, if one did and is still in force. */
  removedBy(id: string): Promise<Pick<Takedown, 'hash' | 'reason'> | null>;
  /** Takedowns in force, newest first. */
  list(): Promise<Takedown[]>;
  /** Every takedown and undo, oldest first. */
  log(): Promise<TakedownLogEntry[]>;
  /** The ids the takedown in force of `hash` removed (to copy it: migrate-db). */
  removedIds(hash: string): Promise<string[]>;
  /**
   * Records a takedown as another store holds it, with the ids it removed (migrate-db); a takedown
   * of those bytes this store has already stands. False when it had one.
   */
  copy(takedown: Takedown, ids: readonly string[]): Promise<boolean>;
  /** Appends an entry of another store's log, unless one of that time, action and bytes is there (false then). */
  copyLogEntry(entry: TakedownLogEntry): Promise<boolean>;
}
