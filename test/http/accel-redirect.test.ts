// --accel_redirect's target: the file of a blob larger than imghost keeps in memory, under the
// internal prefix; refused at start-up when the prefix is not a location path or the store keeps
// no files.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/errors.js';
import { accelTarget } from '../../src/http/accel-redirect.js';
import { SMALL_BLOB } from '../../src/http/blob-cache.js';
import { FsStore } from '../../src/store/fs.js';

const HASH = 'ab12'.padEnd(64, '0');
const LARGE = { hash: HASH, bytes: SMALL_BLOB + 1 };
const fileStore = { localPath: (hash: string) => new FsStore('/srv/blobs').localPath(hash) };

describe('accelTarget', () => {
  it('names the blob\'s file, relative to the store, under the prefix', () => {
    assert.equal(accelTarget('/internal/', fileStore)(LARGE), `/internal/ab/12/${HASH}`);
  });

  it('sends a blob small enough for its memory itself, for nginx to cache', () => {
    assert.equal(accelTarget('/internal/', fileStore)({ hash: HASH, bytes: SMALL_BLOB }), undefined);
  });

  it('sends the bytes itself when off', () => {
    assert.equal(accelTarget('', fileStore)(LARGE), undefined);
  });

  it('refuses a prefix that is not a location path ending in /', () => {
    for (const prefix of ['internal/', '/internal', 'http://x/internal/', '/a b/']) {
      assert.throws(() => accelTarget(prefix, fileStore), ConfigError, prefix);
    }
  });

  it('refuses a store that keeps no files (S3)', () => {
    assert.throws(() => accelTarget('/internal/', { localPath: () => null }), /needs the file store/);
  });
});
