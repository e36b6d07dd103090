// WorkPool: bounded concurrency for thumbnail work, a bounded queue, and Busy beyond it.
// Every job here is gated by a promise the test resolves, so which job runs when is decided
// by the test, never by timing.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Busy } from '../../src/errors.js';
import { WorkPool } from '../../src/images/pool.js';
import { deferred, settle, type Deferred } from '../helpers/async.js';

/** Jobs that record when they start and finish, and end only when the test says so. */
class Jobs {
  running = 0;
  maxRunning = 0;
  readonly started: number[] = [];
  readonly finished: number[] = [];
  readonly gates = new Map<number, Deferred<number>>();

  job(n: number): () => Promise<number> {
    const gate = deferred<number>();
    this.gates.set(n, gate);
    return async () => {
      this.running++;
      this.maxRunning = Math.max(this.maxRunning, this.running);
      this.started.push(n);
      try {
        return await gate.promise;
      } finally {
        this.running--;
        this.finished.push(n);
      }
    };
  }

  /** Lets job `n` finish and waits until the pool has reacted to it. */
  async finish(n: number): Promise<void> {
    const gate = this.gates.get(n);
    assert.ok(gate, `job ${String(n)} was never created`);
    gate.resolve(n);
    await settle();
  }

  async fail(n: number, err: Error): Promise<void> {
    const gate = this.gates.get(n);
    assert.ok(gate, `job ${String(n)} was never created`);
    gate.reject(err);
    await settle();
  }
}

function assertBusy(fn: () => unknown): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof Busy, `expected Busy, got ${String(err)}`);
    assert.equal(err.status, 503);
    assert.equal(err.code, 'BUSY');
    const retryAfter = err.headers['retry-after'];
    assert.match(retryAfter ?? '', /^\d+$/);
    assert.ok(Number(retryAfter) >= 1, `retry-after ${String(retryAfter)} should be at least 1`);
    return true;
  });
}

describe('WorkPool', () => {
  it('never runs more than `concurrency` jobs at once', async () => {
    const pool = new WorkPool(3, 100);
    const jobs = new Jobs();
    const results = Array.from({ length: 10 }, (_, n) => pool.run(jobs.job(n)));
    await settle();
    assert.equal(jobs.running, 3);
    assert.equal(pool.active, 3);
    assert.equal(pool.waiting, 7);
    for (let n = 0; n < 10; n++) await jobs.finish(n);
    assert.deepEqual(await Promise.all(results), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.equal(jobs.maxRunning, 3);
    assert.equal(pool.active, 0);
    assert.equal(pool.waiting, 0);
  });

  it('starts waiting jobs in the order they were queued, one per freed slot', async () => {
    const pool = new WorkPool(2, 100);
    const jobs = new Jobs();
    const results = Array.from({ length: 6 }, (_, n) => pool.run(jobs.job(n)));
    await settle();
    assert.deepEqual(jobs.started, [0, 1]);
    // Free the slots out of order: the next in the queue takes whichever slot frees.
    await jobs.finish(1);
    assert.deepEqual(jobs.started, [0, 1, 2]);
    await jobs.finish(0);
    assert.deepEqual(jobs.started, [0, 1, 2, 3]);
    await jobs.finish(3);
    assert.deepEqual(jobs.started, [0, 1, 2, 3, 4]);
    await jobs.finish(2);
    assert.deepEqual(jobs.started, [0, 1, 2, 3, 4, 5]);
    await jobs.finish(4);
    await jobs.finish(5);
    assert.deepEqual(jobs.finished, [1, 0, 3, 2, 4, 5]);
    assert.deepEqual(await Promise.all(results), [0, 1, 2, 3, 4, 5]);
  });

  it('throws Busy from run and assertCapacity once the slots and the queue are full', async () => {
    const pool = new WorkPool(2, 2);
    const jobs = new Jobs();
    const accepted = [0, 1, 2, 3].map((n) => pool.run(jobs.job(n)));
    await settle();
    assert.deepEqual([pool.active, pool.waiting], [2, 2]);
    assertBusy(() => { pool.assertCapacity(); });
    let ran = false;
    assertBusy(() => pool.run(() => { ran = true; return Promise.resolve(); }));
    // The refused job was dropped, not queued behind the others.
    assert.deepEqual([pool.active, pool.waiting], [2, 2]);
    for (const n of [0, 1, 2, 3]) await jobs.finish(n);
    await Promise.all(accepted);
    assert.equal(ran, false);
  });

  it('with a queue limit of 0 refuses every job while all slots are busy', async () => {
    const pool = new WorkPool(1, 0);
    const jobs = new Jobs();
    const first = pool.run(jobs.job(0));
    // Counted at once, before the job has started: a burst cannot slip past the check.
    assertBusy(() => { pool.assertCapacity(); });
    assertBusy(() => pool.run(jobs.job(1)));
    await settle();
    assert.deepEqual(jobs.started, [0]);
    await jobs.finish(0);
    assert.equal(await first, 0);
  });

  it('grows Retry-After with the length of the queue', async () => {
    const pool = new WorkPool(1, 1000);
    const jobs = new Jobs();
    const refusal = (): number => {
      try {
        pool.assertCapacity();
      } catch (err) {
        assert.ok(err instanceof Busy);
        return Number(err.headers['retry-after']);
      }
      assert.fail('expected Busy');
    };
    const accepted = Array.from({ length: 1001 }, (_, n) => pool.run(jobs.job(n)));
    await settle();
    assert.deepEqual([pool.active, pool.waiting], [1, 1000]);
    const long = refusal();
    assert.ok(long > 1, `a queue of 1000 should ask for more than 1 s, got ${String(long)}`);
    for (let n = 0; n <= 1000; n++) jobs.gates.get(n)?.resolve(n);
    await Promise.all(accepted);

    const short = new WorkPool(1, 0);
    const gate = deferred();
    const one = short.run(() => gate.promise);
    try {
      short.assertCapacity();
      assert.fail('expected Busy');
    } catch (err) {
      assert.ok(err instanceof Busy);
      assert.equal(err.headers['retry-after'], '1');
    }
    gate.resolve();
    await one;
  });

  it('gives capacity back as jobs finish', async () => {
    const pool = new WorkPool(1, 1);
    const jobs = new Jobs();
    const a = pool.run(jobs.job(0));
    const b = pool.run(jobs.job(1));
    await settle();
    assertBusy(() => { pool.assertCapacity(); });

    await jobs.finish(0);
    assert.deepEqual([pool.active, pool.waiting], [1, 0]);
    pool.assertCapacity();
    const c = pool.run(jobs.job(2));
    assertBusy(() => { pool.assertCapacity(); });

    await jobs.finish(1);
    await jobs.finish(2);
    assert.deepEqual([pool.active, pool.waiting], [0, 0]);
    pool.assertCapacity();
    assert.deepEqual(await Promise.all([a, b, c]), [0, 1, 2]);
  });

  it('passes a failing job’s error to its caller and keeps running the others', async () => {
    const pool = new WorkPool(1, 2);
    const jobs = new Jobs();
    const failing = pool.run(jobs.job(0));
    const next = pool.run(jobs.job(1));
    const boom = new Error('thumbnail failed');
    const rejected = assert.rejects(failing, (err) => err === boom);
    await jobs.fail(0, boom);
    await rejected;
    assert.deepEqual(jobs.started, [0, 1]);
    await jobs.finish(1);
    assert.equal(await next, 1);
    assert.deepEqual([pool.active, pool.waiting], [0, 0]);
  });

  it('frees the slot of a job that throws before returning a promise', async () => {
    const pool = new WorkPool(1, 0);
    await assert.rejects(pool.run(() => { throw new Error('sync failure'); }), /sync failure/);
    await settle();
    assert.deepEqual([pool.active, pool.waiting], [0, 0]);
    assert.equal(await pool.run(() => Promise.resolve('ok')), 'ok');
  });

  it('stays usable after many failures in a row', async () => {
    const pool = new WorkPool(2, 0);
    for (let i = 0; i < 20; i++) {
      await assert.rejects(pool.run(() => Promise.reject(new Error(`failure ${String(i)}`))), /failure/);
    }
    assert.deepEqual([pool.active, pool.waiting], [0, 0]);
    const results = await Promise.all([pool.run(() => Promise.resolve(1)), pool.run(() => Promise.resolve(2))]);
    assert.deepEqual(results, [1, 2]);
  });
});
