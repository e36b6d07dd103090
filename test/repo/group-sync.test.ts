// Group commit: commits made while a flush runs share the next flush, and nobody is answered by
// a flush that began before they asked.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GroupSync } from '../../src/repo/group-sync.js';

/** A flush the test finishes by hand, counting how many began. */
function manualFlush() {
  const pending: { resolve: () => void; reject: (err: Error) => void }[] = [];
  return {
    pending,
    flush: () => new Promise<void>((resolve, reject) => { pending.push({ resolve, reject }); }),
    finish(index: number, err?: Error) {
      const flush = pending[index];
      assert.ok(flush, `flush ${String(index)} began`);
      if (err) flush.reject(err); else flush.resolve();
    },
  };
}

const settled = async (promise: Promise<unknown>): Promise<boolean> => {
  let done = false;
  promise.then(() => { done = true; }, () => { done = true; });
  await new Promise(setImmediate);
  return done;
};

describe('GroupSync', () => {
  it('starts a flush at once when none runs', async () => {
    const disk = manualFlush();
    const sync = new GroupSync(disk.flush);
    const first = sync.sync();
    assert.equal(disk.pending.length, 1);
    disk.finish(0);
    await first;
  });

  it('answers a caller who came during a flush only with the next one, shared by all who came meanwhile', async () => {
    const disk = manualFlush();
    const sync = new GroupSync(disk.flush);
    const first = sync.sync();
    const during = [sync.sync(), sync.sync(), sync.sync()];
    assert.equal(disk.pending.length, 1, 'one flush at a time');
    disk.finish(0);
    await first;
    assert.equal(await settled(Promise.all(during)), false, 'the first flush may predate their commits');
    assert.equal(disk.pending.length, 2, 'one more flush for all three');
    disk.finish(1);
    await Promise.all(during);
    assert.equal(disk.pending.length, 2);
  });

  it('rejects the callers of a failed flush, and flushes anew for the next caller', async () => {
    const disk = manualFlush();
    const sync = new GroupSync(disk.flush);
    const failing = sync.sync();
    const next = sync.sync();
    disk.finish(0, new Error('EIO'));
    await assert.rejects(failing, /EIO/);
    disk.finish(1);
    await next;
    const later = sync.sync();
    assert.equal(disk.pending.length, 3);
    disk.finish(2);
    await later;
  });
});
