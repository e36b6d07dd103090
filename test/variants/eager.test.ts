// --eager_variants: the sizes made right after an upload's 201, in the background, in the format a
// current browser is given, so the first view costs no encode; never failing the upload, yielding
// to a full work pool, and refused at startup when it names a size --variants does not define.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import sharp from 'sharp';
import { ConfigError } from '../../src/errors.js';
import { WorkPool } from '../../src/images/pool.js';
import { decodeLimits } from '../../src/images/probe.js';
import { makeRendition } from '../../src/images/rendition.js';
import type { VariantRecord } from '../../src/repo/index.js';
import { Variants } from '../../src/variants/service.js';
import { parseEagerVariants, parseVariants } from '../../src/variants/spec.js';
import { animatedGif, photo } from '../helpers/images.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const BROWSER = 'image/avif,image/webp,image/apng,*/*;q=0.8';

/** The variant of this original and spec once it is recorded, waiting up to `ms` for it. */
async function recorded(s: TestServer, origHash: string, spec: string, ms = 15_000): Promise<VariantRecord> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const variant = await s.server.library.repo.getVariant(origHash, spec);
    if (variant) return variant;
    await sleep(25);
  }
  throw new Error(`${spec} of ${origHash} was not made within ${String(ms)} ms`);
}

describe('eager variants', () => {
  it('makes the listed sizes after the upload, in AVIF, so a browser GET runs no encode', async (t) => {
    const s = await startTestServer({ eager_variants: 'medium' });
    t.after(() => s.close());
    const encodes = () => s.server.library.variants.encodes;
    const image = await s.uploadOk(await photo(1200, 800, 'jpeg'));
    const made = await recorded(s, image.sha256, '800:avif');
    assert.deepEqual([made.mime, made.width, made.height], ['image/avif', 800, 533]);
    assert.equal(encodes(), 1, 'medium alone, once');
    const res = await s.fetch(image.variants.medium ?? '', { headers: { accept: BROWSER } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('etag'), `"${made.hash}"`);
    assert.equal((await sharp(Buffer.from(await res.arrayBuffer())).metadata()).format, 'heif');
    assert.equal(encodes(), 1, 'the GET was served what the upload made');
    assert.equal(await s.server.library.repo.getVariant(image.sha256, '320:avif'), null, 'sizes not listed wait for their first request');
  });

  it('makes WebP without --avif, and an animated WebP of an animation', async (t) => {
    const s = await startTestServer({ eager_variants: 'small', avif: false });
    t.after(() => s.close());
    const still = await s.uploadOk(await photo(640, 480, 'jpeg'));
    assert.equal((await recorded(s, still.sha256, '320:webp')).mime, 'image/webp');
    const animation = await s.uploadOk(await animatedGif(3, 400, 300));
    const made = await recorded(s, animation.sha256, '320:webp:animated');
    const res = await s.fetch(`/imgs/${animation.id}/small`, { headers: { accept: BROWSER } });
    assert.equal(res.headers.get('etag'), `"${made.hash}"`);
    assert.equal((await sharp(Buffer.from(await res.arrayBuffer())).metadata()).pages, 3);
    assert.equal(s.server.library.variants.encodes, 2);
  });

  it('skips what the work pool has no room for, logs failures at warn, and never throws', async (t) => {
    const s = await startTestServer();
    t.after(() => s.close());
    const { repo, store } = s.server.library;
    const image = await s.uploadOk(await photo(640, 480, 'jpeg'));
    const sizes = parseVariants(s.config.variants);
    const pool = new WorkPool(1, 0);
    const variants = new Variants(repo, store, pool, {
      sizes, eager: ['small'], avif: true, limits: decodeLimits(s.config), tmpDir: join(s.dataDir, 'tmp'), makeRendition,
    });
    const source = { id: image.id, orig: { hash: image.sha256, bytes: image.bytes, mime: image.mime }, format: image.format, frames: 1 };
    const warnings: unknown[] = [];
    const log = { warn: (...args: unknown[]) => { warnings.push(args); } };

    let release: () => void = () => undefined;
    const busy = pool.run(() => new Promise<void>((resolve) => { release = resolve; }));
    await variants.prepare(source, log);
    assert.deepEqual([variants.encodes, warnings.length], [0, 0], 'a full pool is not waited for, nor an error');
    release();
    await busy;

    await variants.prepare({ ...source, orig: { ...source.orig, hash: 'f'.repeat(64) } }, log);
    assert.equal(warnings.length, 1, 'an original gone from the store is reported');

    await variants.prepare(source, log);
    assert.deepEqual([variants.encodes, warnings.length], [1, 1]);
    assert.equal((await repo.getVariant(image.sha256, '320:avif'))?.width, 320);
  });

  it('makes one at a time for the whole process, however many uploads arrive at once, and never queues in the pool', async (t) => {
    const s = await startTestServer();
    t.after(() => s.close());
    const { repo, store } = s.server.library;
    const pool = new WorkPool(2, 100);
    const variants = new Variants(repo, store, pool, {
      sizes: parseVariants(s.config.variants), eager: ['small', 'medium'], avif: false, limits: decodeLimits(s.config),
      tmpDir: join(s.dataDir, 'tmp'), makeRendition,
    });
    const uploads = await Promise.all([0, 1, 2, 3].map(async (i) => s.uploadOk(await photo(900 + i, 600, 'jpeg'))));
    let [mostActive, mostWaiting] = [0, 0];
    const watch = setInterval(() => { [mostActive, mostWaiting] = [Math.max(mostActive, pool.active), Math.max(mostWaiting, pool.waiting)]; }, 2);
    t.after(() => { clearInterval(watch); });
    const log = { warn: (...args: unknown[]) => { assert.fail(`no warning expected: ${JSON.stringify(args)}`); } };
    await Promise.all(uploads.map((image) => variants.prepare({
      id: image.id, orig: { hash: image.sha256, bytes: image.bytes, mime: image.mime }, format: image.format, frames: 1,
    }, log)));
    assert.equal(variants.encodes, 8, 'two sizes of four uploads');
    assert.deepEqual([mostActive, mostWaiting], [1, 0], 'one slot of two at most, nothing waiting behind it');
  });

  it('stops the server at startup when a name is not among --variants', async () => {
    await assert.rejects(startTestServer({ eager_variants: 'medium,huge' }), (err: unknown) =>
      err instanceof ConfigError && /'--eager_variants': 'huge' not among --variants \(small, medium, large\)/.test(err.message));
    await assert.rejects(startTestServer({ variants: 'a:100', eager_variants: 'small' }), ConfigError);
    assert.deepEqual(parseEagerVariants(' medium, small ,medium,', parseVariants('small:1,medium:2')), ['medium', 'small']);
    assert.deepEqual(parseEagerVariants('', parseVariants('small:1')), []);
  });
});
