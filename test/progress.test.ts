// Counting progress: a long operation says how much there is before starting, then each item done.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { countProgress, type Progress } from '../src/progress.js';

describe('countProgress', () => {
  it('reports none done at once, then one more for each call', () => {
    const seen: Progress[] = [];
    const oneDone = countProgress(3, (p) => { seen.push(p); });
    assert.deepEqual(seen, [{ total: 3, done: 0 }]);
    oneDone();
    oneDone();
    oneDone();
    assert.deepEqual(seen.map((p) => p.done), [0, 1, 2, 3]);
    assert.ok(seen.every((p) => p.total === 3));
  });

  it('reports an empty operation once, as 0 of 0', () => {
    const seen: Progress[] = [];
    countProgress(0, (p) => { seen.push(p); });
    assert.deepEqual(seen, [{ total: 0, done: 0 }]);
  });
});
