// repeatUntilAborted: a run slower than its period delays the next instead of overlapping it, and
// aborting stops the runs and waits for the one in progress.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { repeatUntilAborted } from '../src/periodic.js';

describe('repeatUntilAborted', () => {
  it('never starts a run while the last is going, and after an abort waits for it and starts none', async () => {
    const stop = new AbortController();
    let running = 0, most = 0, runs = 0, finished = 0;
    const loop = repeatUntilAborted(5, stop.signal, async () => {
      runs++;
      most = Math.max(most, ++running);
      await sleep(40); // eight periods
      running--;
      finished++;
    });
    await sleep(200);
    assert.ok(runs >= 2, `ran ${String(runs)} times`);
    while (running === 0) await sleep(1);
    stop.abort();
    await loop;
    assert.equal(most, 1, 'no two runs at once');
    assert.equal(finished, runs, 'the run in progress at the abort finished before the loop settled');
    const after = runs;
    await sleep(60);
    assert.equal(runs, after, 'no run after the abort');
  });

  it('settles at once when aborted between runs', async () => {
    const stop = new AbortController();
    let runs = 0;
    const loop = repeatUntilAborted(60_000, stop.signal, () => { runs++; return Promise.resolve(); });
    stop.abort();
    await loop;
    assert.equal(runs, 0);
  });
});
