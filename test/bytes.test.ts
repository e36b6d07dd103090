// Byte counts in messages and pages: binary units, as the options take them, short enough to read.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatBytes } from '../src/bytes.js';

describe('formatBytes', () => {
  it('states whole limits without decimals: 32 MiB, 1 MiB, 500 KiB', () => {
    assert.equal(formatBytes(32 * 1024 * 1024), '32 MiB');
    assert.equal(formatBytes(1024 * 1024), '1 MiB');
    assert.equal(formatBytes(500 * 1024), '500 KiB');
    assert.equal(formatBytes(320 * 1024 * 1024), '320 MiB');
  });

  it('keeps one decimal below ten of a unit, whole numbers above', () => {
    assert.equal(formatBytes(2.1 * 1024 * 1024), '2.1 MiB');
    assert.equal(formatBytes(1536), '1.5 KiB');
    assert.equal(formatBytes(1_000_000), '977 KiB');
    assert.equal(formatBytes(1.8 * 1024 ** 3), '1.8 GiB');
  });

  it('counts small sizes in bytes, and moves up a unit rather than show 1024 of one', () => {
    assert.equal(formatBytes(0), '0 B');
    assert.equal(formatBytes(1023), '1023 B');
    assert.equal(formatBytes(1024 * 1024 - 1), '1 MiB');
  });
});
