// What every ImageRepo adapter must do, run against each of them on a real database: the
// pending/ready life of a record, its lease, pagination, removal and the queries gc relies on.
// Adapter-specific checks (schema versions, journal modes, outages) live in each adapter's file.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { AppError } from '../../src/errors.js';
import { DEFAULT_TERMS, type ImageRepo, type NewImage, type VariantRecord } from '../../src/repo/index.js';

export const hash = (seed: string): string => createHash('sha256').update(seed).digest('hex');

let counter = 0;
/** A record as the upload pipeline would make it; `seed` names its blobs. */
export function image(overrides: Partial<NewImage> = {}, seed = `blob-${String(++counter)}`): NewImage {
  return {
    id: randomBytes(12).toString('base64url'),
    createdAt: new Date(),
    name: `${seed}.png`,
    format: 'png',
    width: 640,
    height: 480,
    orig: { hash: hash(`orig:${seed}`), bytes: 12345, mime: 'image/png' },
    thumb: { hash: hash(`thumb:${seed}`), bytes: 2345, mime: 'image/png', width: 128, height: 96 },
    thumbSpec: '128:png',
    deleteTokenHash: hash(`token:${seed}`),
    frames: 1,
    placeholder: null,
    ...DEFAULT_TERMS,
    ...overrides,
  };
}

/** A variant of `origHash` as the variant maker would record it; `seed` names its blob. */
export function variant(origHash: string, spec = '800:webp', seed = `variant-${String(++counter)}`): VariantRecord {
  return { origHash, spec, hash: hash(seed), bytes: 5_000_000_000, mime: 'image/webp', width: 800, height: 600, createdAt: new Date(1_700_000_000_000) };
}

export async function ready(repo: ImageRepo, img: NewImage): Promise<NewImage> {
  await repo.insertPending(img);
  await repo.markReady(img.id);
  return img;
}

export interface OpenedRepo {
  repo: ImageRepo;
  /** Closes the repo and removes what open() made. */
  cleanup(): Promise<void>;
}

/** Runs the contract; `open` must give a repo on a new, empty database each time. */
export function repoContract(name: string, open: () => Promise<OpenedRepo>): void {
  describe(`${name}: the ImageRepo contract`, () => {
    let opened: OpenedRepo;
    let repo: ImageRepo;
    beforeEach(async () => {
      opened = await open();
      repo = opened.repo;
    });
    afterEach(() => opened.cleanup());

    describe('a pending record', () => {
      it('is invisible to get, list and findDuplicate', async () => {
        const img = image();
        await repo.insertPending(img);
        assert.equal(await repo.get(img.id), null);
        assert.deepEqual(await repo.list(10), []);
        assert.equal(await repo.findDuplicate(img.orig.hash, img.thumbSpec), null);
      });

      it('counts as a reference to both of its blobs', async () => {
        const img = image();
        await repo.insertPending(img);
        assert.equal(await repo.isReferenced(img.orig.hash), true);
        assert.equal(await repo.isReferenced(img.thumb.hash), true);
        assert.equal(await repo.isReferenced(hash('unrelated')), false);
        const referenced = await repo.referencedHashes();
        assert.ok(referenced.has(img.orig.hash));
        assert.ok(referenced.has(img.thumb.hash));
      });

      it('becomes visible everywhere once marked ready, with every field as stored', async () => {
        const img = image({ name: null, format: 'gif', width: 3000, height: 2000, frames: 12, placeholder: 'HBkSHYSIeHiPiHh8eJd4eTN0EEQG' });
        await repo.insertPending(img);
        await repo.markReady(img.id);
        const got = await repo.get(img.id);
        assert.ok(got);
        const { seq, ...rest } = got;
        assert.ok(Number.isInteger(seq) && seq > 0);
        assert.deepEqual(rest, img);
        assert.deepEqual((await repo.list(10)).map((r) => r.id), [img.id]);
        assert.equal((await repo.findDuplicate(img.orig.hash, img.thumbSpec))?.id, img.id);
      });

      it('keeps sizes beyond 32 bits and names outside ASCII exactly', async () => {
        const img = image({ name: 'été 日本 🖼.png', orig: { hash: hash('big'), bytes: 5 * 2 ** 32 + 7, mime: 'image/tiff' } });
        await ready(repo, img);
        const got = await repo.get(img.id);
        assert.ok(got);
        assert.equal(got.orig.bytes, 5 * 2 ** 32 + 7);
        assert.equal(got.name, 'été 日本 🖼.png');
      });

      it('refuses a second record with the same id as a conflict, not an outage, keeping the first', async () => {
        const img = image();
        await repo.insertPending(img);
        await assert.rejects(async () => { await repo.insertPending({ ...image(), id: img.id }); },
          (err: unknown) => err instanceof Error && /unique/i.test(err.message) && !(err instanceof AppError));
        await repo.markReady(img.id);
        assert.equal((await repo.get(img.id))?.orig.hash, img.orig.hash);
      });
    });

    describe('findDuplicate', () => {
      it('matches the original hash and the thumbnail settings together', async () => {
        const img = await ready(repo, image());
        assert.equal((await repo.findDuplicate(img.orig.hash, '128:png'))?.id, img.id);
        assert.equal(await repo.findDuplicate(img.orig.hash, '256:png'), null);
        assert.equal(await repo.findDuplicate(img.orig.hash, '128:webp'), null);
        assert.equal(await repo.findDuplicate(img.thumb.hash, '128:png'), null);
      });
    });

    describe('list', () => {
      it('returns ready images newest first and pages through them by the seq cursor', async () => {
        const ids: string[] = [];
        for (let i = 0; i < 7; i++) {
          // Creation times run backwards: the order must come from insertion (seq), not the clock.
          const img = image({ createdAt: new Date(Date.UTC(2030, 0, 1) - i * 60_000) });
          await repo.insertPending(img);
          await repo.markReady(img.id);
          ids.push(img.id);
          // Pending records in between must not disturb the pages.
          await repo.insertPending(image());
        }
        const newestFirst = [...ids].reverse();

        const pages: string[][] = [];
        let before: number | undefined;
        for (;;) {
          const page = await repo.list(3, before);
          if (page.length === 0) break;
          pages.push(page.map((r) => r.id));
          const last = page.at(-1);
          assert.ok(last);
          before = last.seq;
        }
        assert.deepEqual(pages, [newestFirst.slice(0, 3), newestFirst.slice(3, 6), newestFirst.slice(6)]);
        assert.deepEqual((await repo.list(100)).map((r) => r.id), newestFirst);
      });

      it('gives a record the seq of its insertion, not of when it became ready', async () => {
        const first = image();
        await repo.insertPending(first);
        const second = await ready(repo, image());
        await repo.markReady(first.id);
        assert.deepEqual((await repo.list(10)).map((r) => r.id), [second.id, first.id]);
      });
    });

    describe('remove', () => {
      it('deletes a ready or a pending record and answers true', async () => {
        const kept = await ready(repo, image());
        const done = await ready(repo, image());
        const pending = image();
        await repo.insertPending(pending);
        assert.equal(await repo.remove(done.id), true);
        assert.equal(await repo.remove(pending.id), true);
        assert.equal(await repo.get(done.id), null);
        assert.deepEqual((await repo.list(10)).map((r) => r.id), [kept.id]);
        assert.equal(await repo.isReferenced(done.orig.hash), false);
        assert.equal(await repo.isReferenced(pending.thumb.hash), false);
      });

      it('answers false for an id it does not know, or no longer knows', async () => {
        assert.equal(await repo.remove('AAAAAAAAAAAAAAAA'), false);
        const img = await ready(repo, image());
        assert.equal(await repo.remove(img.id), true);
        assert.equal(await repo.remove(img.id), false);
      });

      it('keeps a blob referenced while another record still shares it', async () => {
        const a = await ready(repo, image({}, 'shared'));
        const b = await ready(repo, image({}, 'shared'));
        assert.equal(a.orig.hash, b.orig.hash);
        await repo.remove(a.id);
        assert.equal(await repo.isReferenced(a.orig.hash), true);
        assert.equal(await repo.isReferenced(a.thumb.hash), true);
        await repo.remove(b.id);
        assert.equal(await repo.isReferenced(a.orig.hash), false);
        assert.equal(await repo.isReferenced(a.thumb.hash), false);
      });
    });

    describe('referencedHashes', () => {
      it('holds the original and thumbnail hash of every record, pending or ready', async () => {
        const a = await ready(repo, image());
        const b = image();
        await repo.insertPending(b);
        const shared = await ready(repo, image({ thumb: { ...a.thumb } }));
        assert.deepEqual(
          [...await repo.referencedHashes()].sort(),
          [a.orig.hash, a.thumb.hash, b.orig.hash, b.thumb.hash, shared.orig.hash].sort(),
        );
      });
    });

    describe('referencedAmong', () => {
      it('picks the original and thumbnail hashes of records, pending or ready, out of a batch', async () => {
        const a = await ready(repo, image());
        const pending = image();
        await repo.insertPending(pending);
        const removed = await ready(repo, image());
        await repo.remove(removed.id);
        const unknown = hash('no record');
        const batch = [unknown, a.orig.hash, a.thumb.hash, pending.orig.hash, pending.thumb.hash, removed.orig.hash, removed.thumb.hash];
        assert.deepEqual(
          [...await repo.referencedAmong(batch)].sort(),
          [a.orig.hash, a.thumb.hash, pending.orig.hash, pending.thumb.hash].sort(),
        );
      });

      it("picks the hashes of variants, and an original's hash only while a record has it", async () => {
        const img = await ready(repo, image());
        const v = await repo.insertVariant(variant(img.orig.hash));
        assert.deepEqual([...await repo.referencedAmong([v.hash, hash('unrelated')])], [v.hash]);
        await repo.removeVariant(img.orig.hash, v.spec, v.hash);
        assert.deepEqual([...await repo.referencedAmong([v.hash, img.orig.hash])], [img.orig.hash]);
      });

      it('answers an empty batch with an empty set', async () => {
        await ready(repo, image());
        assert.deepEqual(await repo.referencedAmong([]), new Set());
      });

      it('answers batches past SQLite host-parameter limits (999 of old, 32,766 now) in one go', async () => {
        const [a, b] = [await ready(repo, image()), await ready(repo, image())];
        const v = await repo.insertVariant(variant(a.orig.hash));
        const referenced = [a.orig.hash, b.thumb.hash, v.hash];
        for (const size of [1000, 40_000]) {
          const batch = Array.from({ length: size - referenced.length }, (_, i) => hash(`unreferenced ${String(i)}`));
          batch.splice(size / 2, 0, ...referenced);
          assert.deepEqual([...await repo.referencedAmong(batch)].sort(), [...referenced].sort(), `a batch of ${String(size)}`);
        }
      });
    });

    describe('stalePending', () => {
      it('returns only pending records created before the cutoff', async () => {
        const cutoff = new Date('2030-06-01T00:00:00Z');
        const oldPending = image({ createdAt: new Date('2030-05-01T00:00:00Z') });
        const newPending = image({ createdAt: new Date('2030-07-01T00:00:00Z') });
        const atCutoff = image({ createdAt: cutoff });
        await repo.insertPending(oldPending);
        await repo.insertPending(newPending);
        await repo.insertPending(atCutoff);
        await ready(repo, image({ createdAt: new Date('2030-01-01T00:00:00Z') }));

        const stale = await repo.stalePending(cutoff);
        assert.deepEqual(stale.map((r) => r.id), [oldPending.id]);
        const [found] = stale;
        assert.ok(found);
        assert.deepEqual([found.orig.hash, found.thumb.hash], [oldPending.orig.hash, oldPending.thumb.hash]);
      });
    });

    describe('the lease of a pending record', () => {
      /** Long enough that the database's clock has moved past a lease of 0 ms. */
      const lapse = () => sleep(20);
      const expiredIds = async () => (await repo.removeExpiredPending()).map((r) => r.id);

      it('gc takes a pending record only once its lease ran out, and returns it whole', async () => {
        const live = image();
        const dead = image();
        await repo.insertPending(live, 60_000);
        await repo.insertPending(dead, 0);
        await lapse();
        const taken = await repo.removeExpiredPending();
        assert.deepEqual(taken.map((r) => r.id), [dead.id]);
        assert.deepEqual([taken[0]?.orig.hash, taken[0]?.thumb.hash], [dead.orig.hash, dead.thumb.hash]);
        assert.equal(await repo.isReferenced(dead.orig.hash), false, 'the dead upload no longer holds its blobs');
        assert.equal(await repo.isReferenced(live.orig.hash), true, 'the live upload still holds its blobs');
        assert.deepEqual(await expiredIds(), [], 'taken once');
      });

      it('a renewal keeps the record from gc for another lease, however old the record is', async () => {
        const renewed = image({ createdAt: new Date('2020-01-01T00:00:00Z') });
        const lapsed = image();
        await repo.insertPending(renewed, 0);
        await repo.insertPending(lapsed, 60_000);
        await repo.renewLeases([renewed.id], 60_000);
        await repo.renewLeases([lapsed.id], 0);
        await lapse();
        assert.deepEqual(await expiredIds(), [lapsed.id]);
        assert.equal(await repo.markReady(renewed.id), true);
      });

      it('never takes a record made ready, even with its lease run out', async () => {
        const img = image();
        await repo.insertPending(img, 0);
        assert.equal(await repo.markReady(img.id), true);
        await repo.renewLeases([img.id], 0);
        await lapse();
        assert.deepEqual(await expiredIds(), []);
        assert.equal((await repo.get(img.id))?.id, img.id);
      });

      it('markReady answers false when gc took the record first, and nothing becomes visible', async () => {
        const img = image();
        await repo.insertPending(img, 0);
        await lapse();
        assert.deepEqual(await expiredIds(), [img.id]);
        assert.equal(await repo.markReady(img.id), false);
        assert.equal(await repo.get(img.id), null);
        assert.deepEqual((await repo.list(10)).map((r) => r.id), []);
      });
    });

    describe('variants', () => {
      it('records one per original and spec, every field as given; the first recorded wins', async () => {
        const img = await ready(repo, image());
        const first = variant(img.orig.hash);
        assert.deepEqual(await repo.insertVariant(first), first);
        assert.deepEqual(await repo.insertVariant(variant(img.orig.hash)), first);
        assert.deepEqual(await repo.getVariant(img.orig.hash, first.spec), first);
        assert.equal(await repo.getVariant(img.orig.hash, '320:webp'), null);
      });

      it('lists every variant of one original, and only of that one', async () => {
        const [img, other] = [await ready(repo, image()), await ready(repo, image())];
        const made = [variant(img.orig.hash, '320:webp'), variant(img.orig.hash, '800:avif')];
        for (const v of [...made, variant(other.orig.hash)]) await repo.insertVariant(v);
        assert.deepEqual(await repo.variantsOf(img.orig.hash), made);
        assert.deepEqual(await repo.variantsOf(hash('no such original')), []);
      });

      it('count as references to their blobs, for isReferenced and referencedHashes', async () => {
        const img = await ready(repo, image());
        const v = await repo.insertVariant(variant(img.orig.hash));
        assert.equal(await repo.isReferenced(v.hash), true);
        assert.ok((await repo.referencedHashes()).has(v.hash));
        await repo.removeVariant(img.orig.hash, v.spec, hash('another blob'));
        assert.equal(await repo.isReferenced(v.hash), true);
        await repo.removeVariant(img.orig.hash, v.spec, v.hash);
        assert.equal(await repo.isReferenced(v.hash), false);
        assert.equal(await repo.getVariant(img.orig.hash, v.spec), null);
      });

      it('are removed as orphans only once no image, pending or ready, has their original', async () => {
        const a = await ready(repo, image());
        const b = image({ orig: { ...a.orig } });
        await repo.insertPending(b);
        const other = await ready(repo, image());
        const v = await repo.insertVariant(variant(a.orig.hash));
        const kept = await repo.insertVariant(variant(other.orig.hash));
        await repo.remove(a.id);
        assert.deepEqual(await repo.removeOrphanVariants(a.orig.hash), []);
        await repo.remove(b.id);
        assert.deepEqual(await repo.removeOrphanVariants(other.orig.hash), []);
        assert.deepEqual(await repo.removeOrphanVariants(a.orig.hash), [v]);
        const stray = await repo.insertVariant(variant(hash('an original nobody has')));
        assert.deepEqual(await repo.removeOrphanVariants(), [stray]);
        assert.deepEqual(await repo.getVariant(other.orig.hash, kept.spec), kept);
      });
    });

    describe('frames not counted yet (records stored before they were counted at upload)', () => {
      const uncounted = (overrides: Partial<NewImage> = {}) => image({ format: 'gif', frames: 1, framesUncounted: true, ...overrides });
      const uncountedIds = async () => (await repo.uncountedFrames(100)).map((r) => r.id);

      it('read as one frame until counted, and are listed, pending or ready, oldest first, with what counting needs', async () => {
        const counted = await ready(repo, image({ format: 'gif', frames: 12 }));
        const old = await ready(repo, uncounted());
        const pending = uncounted({ format: 'webp' });
        await repo.insertPending(pending);
        const got = await repo.get(old.id);
        assert.equal(got?.frames, 1);
        assert.equal(got.framesUncounted, true);
        assert.equal((await repo.get(counted.id))?.framesUncounted, undefined);
        const listed = await repo.uncountedFrames(100);
        assert.deepEqual(listed.map(({ seq: _, ...rest }) => rest), [
          { id: old.id, ready: true, format: 'gif', origHash: old.orig.hash },
          { id: pending.id, ready: false, format: 'webp', origHash: pending.orig.hash },
        ]);
      });

      it('are paged through by the seq cursor', async () => {
        const ids: string[] = [];
        for (let i = 0; i < 5; i++) ids.push((await ready(repo, uncounted())).id);
        const first = await repo.uncountedFrames(2);
        const second = await repo.uncountedFrames(2, first.at(-1)?.seq);
        const last = await repo.uncountedFrames(2, second.at(-1)?.seq);
        assert.deepEqual([first, second, last].map((page) => page.map((r) => r.id)), [ids.slice(0, 2), ids.slice(2, 4), ids.slice(4)]);
        assert.deepEqual(await repo.uncountedFrames(2, last.at(-1)?.seq), []);
      });

      it('are set once: a count is never overwritten, and a counted record is no longer listed', async () => {
        const old = await ready(repo, uncounted());
        const counted = await ready(repo, image({ format: 'gif', frames: 12 }));
        assert.equal(await repo.setFrames(old.id, 3), true);
        assert.equal(await repo.setFrames(old.id, 7), false, 'counted by another node first');
        assert.equal(await repo.setFrames(counted.id, 1), false);
        assert.equal(await repo.setFrames('AAAAAAAAAAAAAAAA', 3), false);
        const got = await repo.get(old.id);
        assert.equal(got?.frames, 3);
        assert.equal(got.framesUncounted, undefined);
        assert.equal((await repo.get(counted.id))?.frames, 12);
        assert.deepEqual(await uncountedIds(), []);
      });

      it('stay uncounted in a copy of the record, as migrate-db makes', async () => {
        const old = await ready(repo, uncounted());
        const read = await repo.get(old.id);
        assert.ok(read);
        const copy = await ready(repo, { ...read, id: randomBytes(12).toString('base64url') });
        assert.deepEqual(await uncountedIds(), [old.id, copy.id]);
      });
    });

    describe('ping and close', () => {
      it('ping answers while open; once closed, calls fail instead of hanging', async () => {
        await repo.ping();
        await repo.close();
        await assert.rejects(Promise.resolve().then(() => repo.ping()));
        await assert.rejects(Promise.resolve().then(() => repo.get('AAAAAAAAAAAAAAAA')));
      });
    });
  });
}
