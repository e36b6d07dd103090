// Images stored before frames were counted at upload (frames 0 in the database, as migration 4
// leaves a GIF, a WebP or a TIFF of an older version): they read as still images until the
// server, once started, counts their frames from the originals, on SQLite and on a PostgreSQL
// shared by several nodes.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import sharp from 'sharp';
import { backfillFrames, type BackfillOptions } from '../src/backfill-frames.js';
import { sha256 } from '../src/hash.js';
import { SqliteRepo } from '../src/repo/sqlite.js';
import { FsStore } from '../src/store/fs.js';
import { animatedGif, solid } from './helpers/images.js';
import { startPostgres, type TestPostgres } from './helpers/postgres.js';
import { eventually } from './helpers/process.js';
import { image, ready } from './repo/contract.js';
import { startTestServer, tempDir, type TestServer } from './helpers/server.js';
import type { Config } from '../src/config/options.js';

async function animatedWebp(frames: number): Promise<Buffer> {
  const images = await Promise.all(Array.from({ length: frames }, (_, i) => solid(40, 30, ['#ff0000', '#00ff00', '#0000ff'][i % 3] ?? '#000')));
  return sharp(images, { join: { animated: true } }).webp().toBuffer();
}

/** A three-page TIFF: its pages are counted too (JSON `frames`), though it is no animation. */
async function threePageTiff(): Promise<Buffer> {
  const pages = await Promise.all(['#ff0000', '#00ff00', '#0000ff'].map((colour) => solid(40, 30, colour)));
  return sharp(pages, { join: { animated: true } }).tiff().toBuffer();
}

interface Uploaded { gif: string; png: string; webp: string; tiff: string }

/** Uploads one image of each kind; each answers with its counted frames. */
async function uploadEach(server: TestServer): Promise<Uploaded> {
  const files = { gif: await animatedGif(3), png: await solid(40, 30, '#336699'), webp: await animatedWebp(3), tiff: await threePageTiff() };
  const ids: Partial<Uploaded> = {};
  for (const [kind, data] of Object.entries(files) as [keyof Uploaded, Buffer][]) {
    const json = await server.uploadOk(data) as unknown as { id: string; frames: number };
    assert.equal(json.frames, kind === 'png' ? 1 : 3, `${kind} at upload`);
    ids[kind] = json.id;
  }
  return ids as Uploaded;
}

/** `animated` and `frames` of each image, as GET /api/images/:id answers them. */
async function framesJson(server: TestServer, ids: Uploaded): Promise<Record<keyof Uploaded, [boolean, number]>> {
  const entries = await Promise.all(Object.entries(ids).map(async ([kind, id]) => {
    const json = await (await server.fetch(`/api/images/${id}`)).json() as { animated: boolean; frames: number };
    return [kind, [json.animated, json.frames]] as const;
  }));
  return Object.fromEntries(entries) as Record<keyof Uploaded, [boolean, number]>;
}

const COUNTED = { gif: [true, 3], png: [false, 1], webp: [true, 3], tiff: [false, 3] };

/** What a log records: warnings with their ids, and how many images the backfill reported counting. */
function recordingLog(): BackfillOptions['log'] & { warnings: { id?: string; msg: string }[]; counted: number } {
  const log = {
    warnings: [] as { id?: string; msg: string }[],
    counted: 0,
    warn(fields: { id?: string }, msg: string) { log.warnings.push({ id: fields.id, msg }); },
    info(fields: { counted: number }) { log.counted = fields.counted; },
  };
  return log as never;
}

describe('counting the frames of images stored before frames were counted, on SQLite', () => {
  let dataDir: string;
  let ids: Uploaded;
  const dbPath = () => join(dataDir, 'imghost.db');
  /** Makes every image as an older version left it: frames 0, not counted. */
  const forgetFrames = () => {
    const db = new Database(dbPath());
    try {
      db.prepare('UPDATE images SET frames = 0').run();
    } finally {
      db.close();
    }
  };
  const framesInDb = () => {
    const db = new Database(dbPath(), { readonly: true });
    try {
      return Object.fromEntries(db.prepare<[], { id: string; frames: number }>('SELECT id, frames FROM images').all().map((r) => [r.id, r.frames]));
    } finally {
      db.close();
    }
  };

  before(async () => {
    dataDir = await tempDir('imghost-backfill-');
    const server = await startTestServer({ data_dir: dataDir });
    try {
      ids = await uploadEach(server);
    } finally {
      await server.close();
    }
  });
  after(() => rm(dataDir, { recursive: true, force: true }));

  it('reads an uncounted image as still, then counts it from its original: 3 frames for the GIF, WebP and TIFF, 1 for the PNG', async () => {
    forgetFrames();
    const repo = new SqliteRepo(dbPath());
    const store = new FsStore(join(dataDir, 'blobs'));
    try {
      const gif = await repo.get(ids.gif);
      assert.deepEqual([gif?.frames, gif?.framesUncounted], [1, true]);
      const log = recordingLog();
      await backfillFrames(repo, store, { tmpDir: join(dataDir, 'tmp'), maxFrames: 10_000, log, signal: new AbortController().signal });
      assert.deepEqual(framesInDb(), { [ids.gif]: 3, [ids.png]: 1, [ids.webp]: 3, [ids.tiff]: 3 });
      assert.equal(log.counted, 4);
      assert.deepEqual(log.warnings, []);
      assert.deepEqual(await repo.uncountedFrames(10), []);
    } finally {
      await repo.close();
      await store.close();
    }
  });

  it('counts them in the background once the server listens: the JSON says animated, and so are its variants', async () => {
    forgetFrames();
    const server = await startTestServer({ data_dir: dataDir });
    try {
      await eventually('the frames to be counted', () => Object.values(framesInDb()).every((frames) => frames > 0));
      assert.deepEqual(await framesJson(server, ids), COUNTED);
      const { variants } = await (await server.fetch(`/api/images/${ids.gif}`)).json() as { variants: Record<string, string> };
      const smallest = Object.values(variants)[0];
      assert.ok(smallest !== undefined);
      const variant = await fetch(smallest, { headers: { accept: 'image/webp,*/*' } });
      assert.equal(variant.status, 200);
      assert.equal((await sharp(Buffer.from(await variant.arrayBuffer())).metadata()).pages, 3);
    } finally {
      await server.close();
    }
  });

  it('takes an image whose original is missing as 1 frame with a warning, and leaves a pending upload without its original for later', async () => {
    forgetFrames();
    const db = new Database(dbPath());
    try {
      // The GIF's original gone; the WebP a pending upload whose original is not stored yet.
      db.prepare('UPDATE images SET orig_hash = ? WHERE id = ?').run('0'.repeat(64), ids.gif);
      db.prepare('UPDATE images SET ready = 0, orig_hash = ? WHERE id = ?').run('1'.repeat(64), ids.webp);
    } finally {
      db.close();
    }
    const repo = new SqliteRepo(dbPath());
    const store = new FsStore(join(dataDir, 'blobs'));
    try {
      const log = recordingLog();
      await backfillFrames(repo, store, { tmpDir: join(dataDir, 'tmp'), maxFrames: 10_000, log, signal: new AbortController().signal });
      assert.deepEqual(framesInDb(), { [ids.gif]: 1, [ids.png]: 1, [ids.webp]: 0, [ids.tiff]: 3 });
      assert.deepEqual(log.warnings.map((w) => w.id), [ids.gif]);
      assert.match(log.warnings[0]?.msg ?? '', /missing/);
      assert.deepEqual((await repo.uncountedFrames(10)).map((r) => r.id), [ids.webp]);
    } finally {
      await repo.close();
      await store.close();
    }
  });

  it('stops counting past max_frames and the probe\'s slack for other parts, as an upload\'s probe would', async () => {
    const repo = new SqliteRepo(dbPath());
    const store = new FsStore(join(dataDir, 'blobs'));
    try {
      const gif = await animatedGif(100, 4, 4);
      const long = image({ format: 'gif', frames: 1, framesUncounted: true, orig: { hash: sha256(gif), bytes: gif.length, mime: 'image/gif' } });
      await store.put(long.orig.hash, gif);
      await ready(repo, long);
      await backfillFrames(repo, store, { tmpDir: join(dataDir, 'tmp'), maxFrames: 10, log: recordingLog(), signal: new AbortController().signal });
      const frames = (await repo.get(long.id))?.frames ?? 0;
      assert.ok(frames > 10 && frames < 100, `counted ${String(frames)} of 100 frames`);
    } finally {
      await repo.close();
      await store.close();
    }
  });

  it('counts nothing once the server closes, and does not throw', async () => {
    forgetFrames();
    const repo = new SqliteRepo(dbPath());
    const store = new FsStore(join(dataDir, 'blobs'));
    try {
      const log = recordingLog();
      await backfillFrames(repo, store, { tmpDir: join(dataDir, 'tmp'), maxFrames: 10_000, log, signal: AbortSignal.abort() });
      assert.ok(Object.values(framesInDb()).every((frames) => frames === 0));
      assert.deepEqual(log.warnings, []);
    } finally {
      await repo.close();
      await store.close();
    }
  });
});

describe('counting the frames of images stored before frames were counted, on PostgreSQL with several nodes', () => {
  let pg: TestPostgres;
  let shared: Partial<Config>;
  const dirs: string[] = [];
  before(async () => {
    pg = await startPostgres();
    const blobs = await tempDir('imghost-backfill-blobs-');
    dirs.push(blobs);
    shared = { db: pg.url, store: blobs };
  });
  after(async () => {
    await pg.stop();
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it('has every node count at start-up: two nodes counting at once agree, and every node answers the counts', async () => {
    const first = await startTestServer(shared);
    let ids: Uploaded;
    try {
      ids = await uploadEach(first);
    } finally {
      await first.close();
    }
    await pg.query('UPDATE images SET frames = 0', [], 'imghost');
    const nodes = await Promise.all([startTestServer(shared), startTestServer(shared)]);
    try {
      await eventually('the frames to be counted', async () =>
        (await pg.query<{ n: number }>('SELECT count(*)::int AS n FROM images WHERE frames = 0', [], 'imghost'))[0]?.n === 0);
      for (const node of nodes) assert.deepEqual(await framesJson(node, ids), COUNTED);
    } finally {
      await Promise.all(nodes.map((node) => node.close()));
    }
  });
});
