// PostgresRepo on a real PostgreSQL started for this file: the shared repository contract, plus
// what only a networked database has: nodes migrating at once, a bounded pool, and outages
// (server stopped, frozen, or a statement blocked) that must surface as 503 and heal by themselves.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { Unavailable } from '../../src/errors.js';
import { migrations } from '../../src/repo/postgres-schema.js';
import { PostgresRepo } from '../../src/repo/postgres.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { eventually, freePort } from '../helpers/process.js';
import { hash, image, ready, repoContract } from './contract.js';

let server: TestPostgres;
before(async () => { server = await startPostgres(); });
after(() => server.stop());

const opts = { poolSize: 3, timeoutMs: 5000 };
const dbName = (url: string): string => new URL(url).pathname.slice(1);

/** The rejection every outage must produce: the catalogue's 503 for the database. */
function isUnavailable(err: unknown): boolean {
  assert.ok(err instanceof Unavailable, `expected Unavailable, got ${String(err)}`);
  assert.equal(err.status, 503);
  assert.match(err.message, /^the database is unavailable: /);
  return true;
}

/** A second session holding an exclusive lock on `images`, as a long migration or a DBA would. */
async function lockImages(url: string): Promise<{ release(): Promise<void> }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query('BEGIN');
  await client.query('LOCK TABLE images IN ACCESS EXCLUSIVE MODE');
  return { async release() { await client.query('COMMIT'); await client.end(); } };
}

repoContract('PostgresRepo', async () => {
  const repo = await PostgresRepo.open(await server.createDatabase(), opts);
  // Each test's database is left behind: the whole cluster is removed with the file's server.
  return { repo, cleanup: () => repo.close() };
});

describe('PostgresRepo.referencedHashes on a large library', () => {
  it('reads every record and every variant across several pages, each hash once', async () => {
    const url = await server.createDatabase();
    const repo = await PostgresRepo.open(url, opts);
    try {
      const first = image();
      await repo.insertPending(first);
      const columns = (await server.query<{ column_name: string }>(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'images'", [], dbName(url)))
        .map((c) => c.column_name).filter((name) => !['seq', 'id', 'orig_hash', 'thumb_hash'].includes(name)).join(', ');
      await server.query(`INSERT INTO images (id, orig_hash, thumb_hash, ${columns})
        SELECT 'big' || i, 'orig' || i, 'thumb' || i, ${columns} FROM generate_series(1, 10999) AS i, (SELECT * FROM images) AS f`, [], dbName(url));
      // Two variants share each original, so a page may end between two specs of one original.
      await server.query(`INSERT INTO variants (orig_hash, spec, hash, bytes, mime, width, height, created_at)
        SELECT 'orig' || (i / 2), 'spec' || (i % 2), 'variant' || i, 1, 'image/webp', 1, 1, now() FROM generate_series(2, 10003) AS i`, [], dbName(url));
      const referenced = await repo.referencedHashes();
      assert.equal(referenced.size, 2 * 11_000 + 10_002, 'an original and a thumbnail per record, and each variant');
      for (const hash of [first.orig.hash, first.thumb.hash, 'orig10999', 'thumb10999', 'variant2', 'variant5001', 'variant5002', 'variant10003']) {
        assert.ok(referenced.has(hash), hash);
      }
    } finally {
      await repo.close();
    }
  });
});

describe('PostgresRepo migrations', () => {
  const migrationsOf = (url: string) => server.query<{ version: number; applied_at: Date }>(
    'SELECT version, applied_at FROM schema_migrations ORDER BY version', [], dbName(url));

  it('applies each migration exactly once when four nodes open the same empty database at once', async () => {
    const url = await server.createDatabase();
    const repos = await Promise.all(Array.from({ length: 4 }, () => PostgresRepo.open(url, opts)));
    try {
      const versions = (await migrationsOf(url)).map((m) => m.version);
      assert.ok(versions.length >= 1);
      assert.deepEqual(versions, versions.map((_, i) => i + 1));
      const [first, ...others] = repos;
      assert.ok(first);
      const img = await ready(first, image());
      for (const repo of others) assert.equal((await repo.get(img.id))?.id, img.id);
    } finally {
      await Promise.all(repos.map((r) => r.close()));
    }
  });

  it('reopens an existing database without migrating again, keeping its data and its sequence', async () => {
    const url = await server.createDatabase();
    let repo = await PostgresRepo.open(url, opts);
    const kept = await ready(repo, image());
    const pending = image();
    await repo.insertPending(pending);
    const seqBefore = (await repo.get(kept.id))?.seq ?? Infinity;
    const applied = await migrationsOf(url);
    await repo.close();

    repo = await PostgresRepo.open(url, opts);
    try {
      assert.deepEqual(await migrationsOf(url), applied);
      assert.equal((await repo.get(kept.id))?.id, kept.id);
      assert.deepEqual((await repo.stalePending(new Date(Date.now() + 60_000))).map((r) => r.id), [pending.id]);
      const later = await ready(repo, image());
      assert.ok(((await repo.get(later.id))?.seq ?? 0) > seqBefore);
    } finally {
      await repo.close();
    }
  });
});

describe('PostgresRepo migration to counted frames', () => {
  /** A record as a node of the version before frames were counted writes it. */
  const insertOlder = (url: string, id: string, format: string) => server.query(`INSERT INTO images (id, ready, created_at, format,
    width, height, orig_hash, orig_bytes, orig_mime, thumb_hash, thumb_bytes, thumb_mime, thumb_width, thumb_height, thumb_spec,
    delete_token_hash) VALUES ($1, TRUE, now(), $2, 40, 30, $3, 100, 'image/gif', $4, 50, 'image/png', 40, 30, '128:png', $5)`,
  [id, format, hash(`orig:${id}`), hash(`thumb:${id}`), hash(id)], dbName(url));

  it('marks the GIFs, WebPs and TIFFs of a database at version 3 uncounted, and those older nodes write during a rolling upgrade', async () => {
    const url = await server.createDatabase();
    await server.query(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now());
      ${migrations.slice(0, 3).join(';\n')}; INSERT INTO schema_migrations (version) VALUES (1), (2), (3)`, [], dbName(url));
    for (const format of ['gif', 'png', 'webp', 'jpeg', 'tiff']) await insertOlder(url, `old-${format}`, format);
    const repo = await PostgresRepo.open(url, opts);
    try {
      await insertOlder(url, 'rolling-gif', 'gif');
      await insertOlder(url, 'rolling-png', 'png');
      const frames = await server.query<{ id: string; frames: number }>('SELECT id, frames FROM images ORDER BY seq', [], dbName(url));
      assert.deepEqual(frames, [{ id: 'old-gif', frames: 0 }, { id: 'old-png', frames: 1 }, { id: 'old-webp', frames: 0 },
        { id: 'old-jpeg', frames: 1 }, { id: 'old-tiff', frames: 0 }, { id: 'rolling-gif', frames: 0 }, { id: 'rolling-png', frames: 0 }]);
      assert.deepEqual((await repo.uncountedFrames(10)).map((r) => r.id), ['old-gif', 'old-webp', 'old-tiff', 'rolling-gif', 'rolling-png']);
      const gif = await repo.get('old-gif');
      assert.deepEqual([gif?.frames, gif?.framesUncounted], [1, true]);
    } finally {
      await repo.close();
    }
  });
});

describe('PostgresRepo connection pool', () => {
  it('never holds more than poolSize connections, however many calls are waiting', async () => {
    const url = await server.createDatabase();
    const repo = await PostgresRepo.open(url, { poolSize: 3, timeoutMs: 20_000 });
    const connections = async (onlyWaiting: boolean): Promise<number> => (await server.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND application_name = 'imghost'
         ${onlyWaiting ? "AND wait_event_type = 'Lock'" : ''}`, [dbName(url)]))[0]?.n ?? -1;
    try {
      const img = await ready(repo, image());
      // The lock keeps every call that reaches the server busy, so the pool is pushed to its limit.
      const lock = await lockImages(url);
      const calls = Array.from({ length: 20 }, () => repo.get(img.id));
      let released = false;
      try {
        const waiting = await eventually('calls to queue up on the lock', async () => {
          const n = await connections(true);
          return n >= 3 ? n : false;
        });
        assert.equal(waiting, 3);
        await lock.release();
        released = true;
      } finally {
        if (!released) await lock.release();
      }
      for (const got of await Promise.all(calls)) assert.equal(got?.id, img.id);
      // A pool that overshot would still hold its extra connections, idle.
      const open = await connections(false);
      assert.ok(open <= 3 && open >= 1, `${String(open)} connections for a pool of 3`);
    } finally {
      await repo.close();
    }
  });
});

describe('PostgresRepo during outages', () => {
  it('refuses to open with 503 Unavailable when nothing listens', async () => {
    const url = `postgres://postgres@127.0.0.1:${String(await freePort())}/imghost`;
    await assert.rejects(PostgresRepo.open(url, opts), isUnavailable);
  });

  it('answers 503 Unavailable while the server is stopped, then works again on the same repo', async () => {
    const repo = await PostgresRepo.open(await server.createDatabase(), { poolSize: 3, timeoutMs: 2000 });
    let halted = false;
    try {
      const img = await ready(repo, image());
      // Idle pooled connections are terminated by the shutdown: unhandled, that would crash the process.
      await Promise.all([repo.get(img.id), repo.list(10), repo.ping()]);
      await server.halt();
      halted = true;
      await assert.rejects(repo.ping(), isUnavailable);
      await assert.rejects(repo.get(img.id), isUnavailable);
      await assert.rejects(repo.list(10), isUnavailable);
      await assert.rejects(repo.insertPending(image()), isUnavailable);

      await server.resume();
      halted = false;
      await repo.ping();
      assert.equal((await repo.get(img.id))?.id, img.id);
      const after = await ready(repo, image());
      assert.deepEqual((await repo.list(10)).map((r) => r.id), [after.id, img.id]);
    } finally {
      if (halted) await server.resume();
      await repo.close();
    }
  });

  it('answers 503 Unavailable when the server stops answering, on a pooled connection and a new one alike', async () => {
    const repo = await PostgresRepo.open(await server.createDatabase(), { poolSize: 2, timeoutMs: 1000 });
    try {
      const img = await ready(repo, image());
      await server.freeze();
      try {
        // The first call goes to the idle connection (query timeout), the next to a new one
        // the frozen server never answers (connect timeout).
        await assert.rejects(repo.get(img.id), isUnavailable);
        await assert.rejects(repo.ping(), isUnavailable);
      } finally {
        await server.thaw();
      }
      assert.equal((await repo.get(img.id))?.id, img.id);
    } finally {
      await repo.close();
    }
  });

  it('gives up a statement blocked past the timeout with 503 Unavailable, and keeps working', async () => {
    const url = await server.createDatabase();
    const repo = await PostgresRepo.open(url, { poolSize: 2, timeoutMs: 1000 });
    try {
      const img = await ready(repo, image());
      const lock = await lockImages(url);
      try {
        await assert.rejects(repo.get(img.id), (err: unknown) =>
          isUnavailable(err) && /statement timeout/.test((err as Error).message));
      } finally {
        await lock.release();
      }
      assert.equal((await repo.get(img.id))?.id, img.id);
    } finally {
      await repo.close();
    }
  });
});
