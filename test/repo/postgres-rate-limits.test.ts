// Shared hit counts on a real PostgreSQL: one count per key across connections (nodes), a fresh
// window once the last is over, the milliseconds left from the database's clock, and rows of
// finished windows swept so the table does not grow with every client ever seen.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { PostgresRepo } from '../../src/repo/postgres.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';

describe('PostgresRateLimits', () => {
  let server: TestPostgres;
  let url: string;
  let dbName: string;
  /** Two repositories on one database, as two nodes have. */
  let nodes: PostgresRepo[];
  before(async () => {
    server = await startPostgres();
    url = await server.createDatabase();
    dbName = new URL(url).pathname.slice(1);
    nodes = await Promise.all([1, 2].map(() => PostgresRepo.open(url, { poolSize: 5, timeoutMs: 5000 })));
  });
  after(async () => {
    await Promise.all(nodes.map((node) => node.close()));
    await server.stop();
  });

  const node = (i: number) => {
    const repo = nodes[i];
    assert.ok(repo);
    return repo.sharedHits;
  };
  const rows = (prefix: string) =>
    server.query<{ key: string }>('SELECT key FROM rate_limits WHERE starts_with(key, $1) ORDER BY key', [prefix], dbName);

  it('counts the hits of one key on every node in one window, the time left shrinking', async () => {
    const first = await node(0).countHit('a:', '192.0.2.1', 60_000);
    assert.equal(first.hits, 1);
    assert.ok(first.ttlMs > 59_000 && first.ttlMs <= 60_000, `ttl ${String(first.ttlMs)}`);
    await sleep(50);
    const second = await node(1).countHit('a:', '192.0.2.1', 60_000);
    assert.equal(second.hits, 2);
    assert.ok(second.ttlMs <= first.ttlMs - 40, `ttl ${String(second.ttlMs)} after ${String(first.ttlMs)}`);
    assert.equal((await node(0).countHit('a:', '192.0.2.1', 60_000)).hits, 3);
  });

  it('keeps keys and limits apart', async () => {
    assert.equal((await node(0).countHit('b:', '192.0.2.1', 60_000)).hits, 1);
    assert.equal((await node(1).countHit('b:', '192.0.2.2', 60_000)).hits, 1);
    assert.equal((await node(1).countHit('b:', '192.0.2.1', 60_000)).hits, 2);
  });

  it('gives every one of many concurrent hits on two nodes its own number', async () => {
    const counts = await Promise.all(Array.from({ length: 30 }, (_, i) => node(i % 2).countHit('c:', '198.51.100.9', 60_000)));
    assert.deepEqual(counts.map((count) => count.hits).sort((x, y) => x - y), Array.from({ length: 30 }, (_, i) => i + 1));
  });

  it('starts a new window at the first hit after the last one is over', async () => {
    assert.equal((await node(0).countHit('d:', '203.0.113.5', 300)).hits, 1);
    assert.equal((await node(1).countHit('d:', '203.0.113.5', 300)).hits, 2);
    await sleep(350);
    const fresh = await node(1).countHit('d:', '203.0.113.5', 300);
    assert.equal(fresh.hits, 1);
    assert.ok(fresh.ttlMs > 250 && fresh.ttlMs <= 300, `ttl ${String(fresh.ttlMs)}`);
    assert.equal((await node(0).countHit('d:', '203.0.113.5', 300)).hits, 2);
  });

  it('sweeps the rows of finished windows of its own limit only, live ones kept', async () => {
    await node(0).countHit('e:', 'gone', 200);
    await node(0).countHit('f:', 'other limit', 200);
    await sleep(250);
    // Written behind the counter's back, so that its own sweep (next test) does not run first.
    await server.query("INSERT INTO rate_limits VALUES ('e:live', now(), 1)", [], dbName);
    assert.equal(await node(1).prune('e:', 200), 1);
    assert.deepEqual((await rows('e:')).map((row) => row.key), ['e:live']);
    assert.equal((await rows('f:')).length, 1);
  });

  it('sweeps by itself, once a window, as hits are counted', async () => {
    const repo = await PostgresRepo.open(url, { poolSize: 2, timeoutMs: 5000 });
    try {
      await repo.sharedHits.countHit('g:', 'one', 200);
      await repo.sharedHits.countHit('g:', 'two', 200);
      await sleep(250);
      await repo.sharedHits.countHit('g:', 'three', 200);
      // The sweep runs behind the hit that started it.
      for (let i = 0; i < 50 && (await rows('g:')).length > 1; i++) await sleep(20);
      assert.deepEqual((await rows('g:')).map((row) => row.key), ['g:three']);
    } finally {
      await repo.close();
    }
  });
});
