// The images table as both repositories read and write it: the columns of a record, the order of
// an insert's values and the row → record mapping. Each adapter keeps only its dialect: SQLite
// stores integers and millisecond timestamps; pg returns BIGINT as strings and TIMESTAMPTZ as Dates.
import type { ImageRecord, NewImage, UncountedFrames, VariantRecord } from './index.js';

// Named rather than `SELECT *`: in PostgreSQL a prepared statement whose result shape changes
// under it (a later migration adding a column, run by a newer node) fails with 0A000.
export const RECORD_COLUMNS = `seq, id, created_at, name, format, width, height, orig_hash, orig_bytes, orig_mime,
  thumb_hash, thumb_bytes, thumb_mime, thumb_width, thumb_height, thumb_spec, delete_token_hash, frames, placeholder,
  owner_id, unlisted, expires_at, max_views`;

// What an insert writes of a record; `ready` and `lease_until` follow, in each adapter's terms.
const INSERTED = ['id', 'created_at', 'name', 'format', 'width', 'height', 'orig_hash', 'orig_bytes', 'orig_mime',
  'thumb_hash', 'thumb_bytes', 'thumb_mime', 'thumb_width', 'thumb_height', 'thumb_spec', 'delete_token_hash', 'frames', 'placeholder',
  'owner_id', 'unlisted', 'expires_at', 'max_views'] as const;

export const INSERT_COLUMNS = INSERTED.join(', ');

/** The placeholders of `insertValues`, written by the dialect's `placeholder(n)`, n from 1. */
export const insertPlaceholders = (placeholder: (n: number) => string): string =>
  INSERTED.map((_, i) => placeholder(i + 1)).join(', ');

/** The number of `insertValues`: the adapter's own parameters come after. */
export const INSERTED_COUNT = INSERTED.length;

/** The values of INSERT_COLUMNS, in order, with times and booleans as the dialect stores them. */
export const insertValues = (image: NewImage, time: (date: Date) => unknown, flag: (value: boolean) => unknown): unknown[] => [
  image.id, time(image.createdAt), image.name, image.format, image.width, image.height,
  image.orig.hash, image.orig.bytes, image.orig.mime,
  image.thumb.hash, image.thumb.bytes, image.thumb.mime, image.thumb.width, image.thumb.height,
  image.thumbSpec, image.deleteTokenHash, image.framesUncounted === true ? 0 : image.frames, image.placeholder,
  image.owner, flag(image.unlisted), image.expiresAt === null ? null : time(image.expiresAt), image.maxViews,
];

/** A row of RECORD_COLUMNS as the driver returns it: `Int` for the BIGINT columns, `Time` for created_at. */
export interface ImageRow<Int, Time> {
  seq: Int; id: string; created_at: Time; name: string | null;
  format: string; width: number; height: number;
  orig_hash: string; orig_bytes: Int; orig_mime: string;
  thumb_hash: string; thumb_bytes: Int; thumb_mime: string; thumb_width: number; thumb_height: number;
  thumb_spec: string; delete_token_hash: string; frames: number; placeholder: string | null;
  owner_id: string | null; unlisted: number | boolean; expires_at: Time | null; max_views: number | null;
}

export const toRecord = (r: ImageRow<number | string, number | Date>): ImageRecord => ({
  id: r.id,
  seq: Number(r.seq),
  createdAt: new Date(r.created_at),
  name: r.name,
  format: r.format,
  width: r.width,
  height: r.height,
  orig: { hash: r.orig_hash, bytes: Number(r.orig_bytes), mime: r.orig_mime },
  thumb: { hash: r.thumb_hash, bytes: Number(r.thumb_bytes), mime: r.thumb_mime, width: r.thumb_width, height: r.thumb_height },
  thumbSpec: r.thumb_spec,
  deleteTokenHash: r.delete_token_hash,
  // Not counted yet: a still image until the server counts its frames (the one place a 0 is read).
  ...(r.frames === 0 ? { frames: 1, framesUncounted: true as const } : { frames: r.frames }),
  placeholder: r.placeholder,
  owner: r.owner_id,
  unlisted: Boolean(r.unlisted),
  expiresAt: r.expires_at === null ? null : new Date(r.expires_at),
  maxViews: r.max_views,
});

/** The columns of an UncountedFrames, and the mapping of a row of them; `ready` is 0/1 in SQLite. */
export const UNCOUNTED_COLUMNS = 'seq, id, ready, format, orig_hash';

export interface UncountedRow<Int> { seq: Int; id: string; ready: number | boolean; format: string; orig_hash: string }

export const toUncounted = (r: UncountedRow<number | string>): UncountedFrames =>
  ({ seq: Number(r.seq), id: r.id, ready: Boolean(r.ready), format: r.format, origHash: r.orig_hash });

// The variants table, likewise.
export const VARIANT_COLUMNS = 'orig_hash, spec, hash, bytes, mime, width, height, created_at';

export const variantValues = (v: VariantRecord, time: (date: Date) => unknown): unknown[] =>
  [v.origHash, v.spec, v.hash, v.bytes, v.mime, v.width, v.height, time(v.createdAt)];

export interface VariantRow<Int, Time> {
  orig_hash: string; spec: string; hash: string; bytes: Int; mime: string; width: number; height: number; created_at: Time;
}

export const toVariant = (r: VariantRow<number | string, number | Date>): VariantRecord => ({
  origHash: r.orig_hash,
  spec: r.spec,
  hash: r.hash,
  bytes: Number(r.bytes),
  mime: r.mime,
  width: r.width,
  height: r.height,
  createdAt: new Date(r.created_at),
});
