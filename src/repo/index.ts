// The metadata repository: the `imgs` collection of the original, one record per upload linking
// the original blob and its thumbnail. Adapters: sqlite.ts (embedded default), postgres.ts
// (shared by several nodes).

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
}

export type NewImage = Omit<ImageRecord, 'seq'>;

export interface ImageRepo {
  /** Throws when the store cannot be reached. */
  ping(): Promise<void>;
  /**
   * Records an upload whose blobs are about to be written. A pending record is invisible to
   * readers but counts as a reference, so no concurrent delete can remove the blobs it needs.
   */
  insertPending(image: NewImage): Promise<void>;
  /** Makes a pending record visible, once its blobs are durable. */
  markReady(id: string): Promise<void>;
  get(id: string): Promise<ImageRecord | null>;
  /** Newest first; `before` is a cursor (a record's seq) from an earlier page. */
  list(limit: number, before?: number): Promise<ImageRecord[]>;
  /** A ready image with the same original and thumbnail settings, to skip the work for a duplicate. */
  findDuplicate(origHash: string, thumbSpec: string): Promise<ImageRecord | null>;
  /** Deletes the record whatever its state; false when it was not there. */
  remove(id: string): Promise<boolean>;
  /** Whether any record, pending or ready, refers to this blob. */
  isReferenced(hash: string): Promise<boolean>;
  /** Pending records created before `olderThan`: uploads that died half-way. */
  stalePending(olderThan: Date): Promise<ImageRecord[]>;
  /** Every blob hash any record refers to (for gc). */
  referencedHashes(): Promise<Set<string>>;
  close(): Promise<void>;
}
