// Scenario: the same library at two sizes in one run (1,000 images and 1,000,000; quick: 1,000
// and 20,000) on SQLite: start-up to /readyz, how long the server stays busy after it is ready
// (the sweep of a crash's leftovers asks about the stored blobs in batches) and its peak memory by then, listing
// pages (the first and one deep in the library), GETs of thumbnails and originals, and uploads;
// then the same on PostgreSQL when it is installed (scripts/test-deps.sh).
// A few images are uploaded for real and have blobs to GET; the rest are records added in SQL
// with their own ids and hashes, as a library of distinct photos has.
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { steadyLatencies, uploadMany } from './client.js';
import { smallPhoto, type Bench } from './context.js';
import type { Imghost } from './imghost-process.js';
import { treeCpuMsTotal } from './proc-tree.js';
import { startPostgres, type TestPostgres } from '../test/helpers/postgres.js';
import { median, percentile, repeat, round } from './stats.js';

/** Images uploaded through HTTP, with blobs: the ones GET is timed on. */
const REAL = 20;
/** Records added per SQL statement while filling. */
const FILL_BATCH = 50_000;

/** A database to fill: the options that point imghost at it, and how to add records to it. */
interface Library { name: string; args: string[]; fill(count: number): Promise<void> }

export async function scaleScenario(bench: Bench): Promise<void> {
  const sizes = bench.pick([1000, 20_000], [1000, 1_000_000]);
  for (const images of sizes) await measure(bench, images, sqlite);
  let postgres: TestPostgres;
  try {
    postgres = await startPostgres();
  } catch (err) {
    bench.emit({ scenario: 'scale', database: 'postgres', reference: 'unavailable', error: err instanceof Error ? err.message.split('\n')[0] : String(err) });
    return;
  }
  try {
    for (const images of sizes) {
      const url = await postgres.createDatabase();
      const database = url.slice(url.lastIndexOf('/') + 1);
      await measure(bench, images, () => ({
        name: 'postgres',
        args: [`--db=${url}`],
        fill: (count) => fillPostgres(postgres, database, count),
      }));
    }
  } finally {
    await postgres.stop();
  }
}

function sqlite(dataDir: string): Library {
  return { name: 'sqlite', args: [], fill: (count) => { fillSqlite(join(dataDir, 'imghost.db'), count); return Promise.resolve(); } };
}

async function measure(bench: Bench, images: number, open: (dataDir: string) => Library): Promise<void> {
  const dataDir = await bench.dir('scale');
  const library = open(dataDir);
  const set = await bench.images(smallPhoto);
  const withServer = <T>(use: (server: Imghost) => Promise<T>): Promise<T> => bench.withImghost(library.args, use, dataDir);
  const ids = await withServer(async (server) =>
    (await uploadMany(server.url, () => set.next(), set.cls.mime, REAL, 4)).uploads.map((u) => u.id));
  const filling = performance.now();
  await library.fill(images - REAL);
  const fillSeconds = (performance.now() - filling) / 1000;

  const ready = await repeat(bench.pick(3, 5), () => withServer((server) => Promise.resolve(server.readyMs)));
  const measured = await withServer(async (server) => {
    const busyMs = await busyAfterReady(server);
    const { peak: startPeak } = await server.memory();
    const rate = bench.pick(50, 100);
    const seconds = bench.pick(2, 4);
    const timed = async (paths: string[]): Promise<{ p50: number; p99: number }> => {
      const latencies = await steadyLatencies(server.url, paths, rate, seconds);
      return { p50: round(percentile(latencies, 50)), p99: round(percentile(latencies, 99)) };
    };
    const list = await timed(['/api/images?limit=50']);
    const deep = await timed([`/api/images?limit=50&before=${String(Math.floor(images / 2))}`]);
    const thumbs = await timed(ids.map((id) => `/imgs/${id}/thumb`));
    const origs = await timed(ids.map((id) => `/imgs/${id}/orig`));
    const uploads = await uploadMany(server.url, () => set.next(), set.cls.mime, bench.pick(16, 48), 4);
    return { busyMs, startPeak, list, deep, thumbs, origs, uploadsPerSecond: uploads.perSecond };
  });
  bench.emit({
    scenario: 'scale',
    database: library.name,
    images,
    fill_s: round(fillSeconds),
    ready_ms: round(median(ready)),
    ready_runs: ready.map(round),
    busy_after_ready_ms: round(measured.busyMs),
    server_start_peak_rss_mb: round(measured.startPeak / (1024 * 1024)),
    list_first_ms: measured.list,
    list_deep_ms: measured.deep,
    thumb_get_ms: measured.thumbs,
    orig_get_ms: measured.origs,
    uploads_per_s: round(measured.uploadsPerSecond),
  });
}

/**
 * Milliseconds from /readyz answering until the server's process tree is idle (under 10 ms of
 * CPU in 200 ms): the background work of start-up, which requests share the cores with.
 */
async function busyAfterReady(server: Imghost): Promise<number> {
  const pid = server.child.pid ?? 0;
  const began = performance.now();
  for (let last = await treeCpuMsTotal(pid); ;) {
    await sleep(200);
    const now = await treeCpuMsTotal(pid);
    if (now - last < 10) return performance.now() - began - 200;
    last = now;
  }
}

/**
 * Adds `count` records modelled on the library's first image, each with its own id and its own
 * (made-up) original and thumbnail hashes, in batches. Columns are read from the schema, so this
 * follows the repository's migrations.
 */
function fillSqlite(path: string, count: number): void {
  const db = new Database(path);
  try {
    const columns = (db.pragma('table_info(images)') as { name: string }[])
      .map((c) => c.name).filter((name) => !['seq', 'id', 'orig_hash', 'thumb_hash'].includes(name));
    const list = columns.join(', ');
    const insert = db.prepare(`WITH RECURSIVE n(i) AS (SELECT ? UNION ALL SELECT i + 1 FROM n WHERE i < ?)
      INSERT INTO images (id, orig_hash, thumb_hash, ${list})
      SELECT printf('scale%011d', n.i), printf('%064x', 2 * n.i), printf('%064x', 2 * n.i + 1), ${list}
      FROM n, (SELECT * FROM images ORDER BY seq LIMIT 1)`);
    for (let from = 1; from <= count; from += FILL_BATCH) insert.run(from, Math.min(count, from + FILL_BATCH - 1));
  } finally {
    db.close();
  }
}

/** The same on PostgreSQL, then a VACUUM ANALYZE, as autovacuum would do after such a load. */
async function fillPostgres(postgres: TestPostgres, database: string, count: number): Promise<void> {
  const columns = (await postgres.query<{ column_name: string }>(
    "SELECT column_name FROM information_schema.columns WHERE table_name = 'images'", [], database))
    .map((c) => c.column_name).filter((name) => !['seq', 'id', 'orig_hash', 'thumb_hash'].includes(name));
  const list = columns.join(', ');
  for (let from = 1; from <= count; from += FILL_BATCH) {
    await postgres.query(`INSERT INTO images (id, orig_hash, thumb_hash, ${list})
      SELECT 'scale' || lpad(i::text, 11, '0'), lpad(to_hex(2 * i), 64, '0'), lpad(to_hex(2 * i + 1), 64, '0'), ${list}
      FROM generate_series($1::bigint, $2::bigint) AS i, (SELECT * FROM images ORDER BY seq LIMIT 1) AS first`,
    [from, Math.min(count, from + FILL_BATCH - 1)], database);
  }
  await postgres.query('VACUUM ANALYZE images', [], database);
}
