// What `imghost verify` asks of the records besides their blobs: the rules the server keeps, which
// a crash, a hand-edited database or a copy from elsewhere could break. An owner is a user; no
// image holds bytes that are taken down; no image was served more views than its limit; an
// expired image is swept. Adapters: sqlite-integrity.ts, postgres-integrity.ts.

export interface IntegrityRepo {
  /** Records, pending or ready, whose owner is no user. */
  danglingOwners(): Promise<{ id: string; owner: string }[]>;
  /** Records, pending or ready, whose original is taken down. */
  refusedOriginals(): Promise<{ id: string; hash: string }[]>;
  /** Records counted more views of their original than their limit allows. */
  overViewed(): Promise<{ id: string; views: number; maxViews: number }[]>;
  /** Ready records whose expiry is before `before`. */
  expiredBefore(before: Date): Promise<{ id: string; expiresAt: Date }[]>;
  /** Makes every record whose owner is no user anonymous; the number made so. */
  disownDangling(): Promise<number>;
}

export const SQL = {
  danglingOwners: 'SELECT id, owner_id AS owner FROM images WHERE owner_id IS NOT NULL AND owner_id NOT IN (SELECT id FROM users) ORDER BY seq',
  refusedOriginals: 'SELECT id, orig_hash AS hash FROM images WHERE orig_hash IN (SELECT hash FROM takedowns) ORDER BY seq',
  overViewed: 'SELECT id, views, max_views AS "maxViews" FROM images WHERE max_views IS NOT NULL AND views > max_views ORDER BY seq',
  disownDangling: 'UPDATE images SET owner_id = NULL WHERE owner_id IS NOT NULL AND owner_id NOT IN (SELECT id FROM users) RETURNING id',
} as const;
