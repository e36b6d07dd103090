// Scenario 5: time from starting the process to /readyz answering 200, with an empty library
// and with 100,000 images.
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { smallPhoto, type Bench } from './context.js';
import { populate } from './populate.js';
import { median, repeat, round } from './stats.js';

const LARGE_LIBRARY = 100_000;

export async function startupScenario(bench: Bench): Promise<void> {
  const empty = await repeat(bench.pick(3, 5), () => bench.withImghost([], (server) => Promise.resolve(server.readyMs)));
  bench.emit({ scenario: 'startup', images: 0, ready_ms: round(median(empty)), runs: empty.map(round) });

  const dataDir = await bench.dir('data');
  await bench.withImghost([], async (server) => populate(server.url, await bench.images(smallPhoto), 1, 'thumb'), dataDir);
  const filled = performance.now();
  cloneFirstImage(join(dataDir, 'imghost.db'), LARGE_LIBRARY - 1);
  const fillSeconds = (performance.now() - filled) / 1000;
  const large = await repeat(bench.pick(3, 5), () => bench.withImghost([], (server) => Promise.resolve(server.readyMs), dataDir));
  bench.emit({ scenario: 'startup', images: LARGE_LIBRARY, ready_ms: round(median(large)), runs: large.map(round), fill_s: round(fillSeconds) });
}

/**
 * Adds `count` records that share the first image's blobs, in one statement: a large library in
 * seconds. Columns are read from the schema, so this follows the repository's migrations.
 */
function cloneFirstImage(path: string, count: number): void {
  const db = new Database(path);
  try {
    const columns = (db.pragma('table_info(images)') as { name: string }[])
      .map((c) => c.name).filter((name) => name !== 'seq' && name !== 'id');
    const list = columns.join(', ');
    db.prepare(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
      INSERT INTO images (id, ${list})
      SELECT printf('bench%011d', n.i), ${list} FROM n, (SELECT * FROM images ORDER BY seq LIMIT 1)`).run(count);
  } finally {
    db.close();
  }
}
