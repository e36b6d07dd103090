// The catalogue's reading of system and SQLite error codes: what a storage adapter reports for a
// full, read-only or exhausted storage, and the narrower reading the HTTP error handler applies
// to errors from anywhere else.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NotFound, OutOfResources, resourceFailure, StorageFull, StorageNotWritable, StorageReadOnly, storageFailure } from '../src/errors.js';

const systemError = (code: string): Error => Object.assign(new Error(`${code}: something`), { code });

describe('storageFailure', () => {
  for (const [code, Expected, status] of [
    ['ENOSPC', StorageFull, 507], ['EDQUOT', StorageFull, 507], ['SQLITE_FULL', StorageFull, 507],
    ['EROFS', StorageReadOnly, 503], ['SQLITE_READONLY', StorageReadOnly, 503], ['EACCES', StorageNotWritable, 503],
    ['EMFILE', OutOfResources, 503], ['SQLITE_CANTOPEN', OutOfResources, 503],
  ] as const) {
    it(`reports ${code} as ${Expected.name} ${String(status)}, naming the code and keeping the cause`, () => {
      const cause = systemError(code);
      const mapped = storageFailure(cause);
      assert.ok(mapped instanceof Expected);
      assert.equal(mapped.status, status);
      assert.equal(mapped.code, code);
      assert.equal(mapped.damage, true, 'logged as an error: an operator must act');
      assert.equal(mapped.cause, cause);
    });
  }

  it("reads SQLite's extended codes by their primary code", () => {
    const mapped = storageFailure(systemError('SQLITE_READONLY_DBMOVED'));
    assert.ok(mapped instanceof StorageReadOnly);
    assert.equal(mapped.code, 'SQLITE_READONLY_DBMOVED');
  });

  it('leaves other errors, and catalogue errors, as they were', () => {
    for (const err of [systemError('ENOENT'), systemError('SQLITE_CONSTRAINT_UNIQUE'), new NotFound(), new Error('no code'), 'a string']) {
      assert.equal(storageFailure(err), err);
    }
  });
});

describe('resourceFailure', () => {
  it('reports running out of descriptors or memory, which can happen anywhere, as 503 with Retry-After', () => {
    const mapped = resourceFailure(systemError('ENFILE'));
    assert.ok(mapped instanceof OutOfResources);
    assert.deepEqual([mapped.status, mapped.headers['retry-after']], [503, '5']);
  });

  it('leaves a full or read-only storage to the adapters that meet it', () => {
    for (const code of ['ENOSPC', 'SQLITE_FULL', 'EROFS', 'EACCES']) {
      const err = systemError(code);
      assert.equal(resourceFailure(err), err);
    }
  });
});
