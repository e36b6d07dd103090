// A takedown that lands while an upload of the same bytes is under way: whichever step the upload
// has reached, it is not kept and the bytes end up refused, with nothing of them in the store.
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ImageRepo } from '../src/repo/index.js';
import type { BlobStore } from '../src/store/index.js';
import { takeDown } from '../src/takedown.js';
import { photo } from './helpers/images.js';
import { startTestServer, type TestServer } from './helpers/server.js';

interface ErrorJson { error: string; message: string }

async function storedFiles(dataDir: string): Promise<string[]> {
  const entries = await readdir(join(dataDir, 'blobs'), { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => e.name);
}

describe('a takedown during an upload of the same bytes', () => {
  let s: TestServer;
  let repo: ImageRepo;
  let store: BlobStore;
  before(async () => {
    s = await startTestServer();
    ({ repo, store } = s.server.library);
  });
  after(() => s.close());

  it('committed after the upload first looked, before its record: the upload is refused with 451', async () => {
    const data = await photo(200, 150);
    const earlier = await s.uploadOk(data);
    const findDuplicate = repo.findDuplicate.bind(repo);
    // findDuplicate runs between the upload's first look at the takedowns and its pending record.
    repo.findDuplicate = async (hash, spec) => {
      await takeDown(repo, store, hash, 'raced');
      return findDuplicate(hash, spec);
    };
    const res = await s.upload(data).finally(() => { repo.findDuplicate = findDuplicate; });
    const answer = await res.json() as ErrorJson;
    assert.deepEqual([res.status, answer.error], [451, 'TAKEN_DOWN'], answer.message);
    assert.equal((await s.fetch(earlier.url)).status, 410);
    assert.deepEqual(await storedFiles(s.dataDir), []);
  });

  it('committed while its blobs are written: the upload loses its record (503), and its retry gets 451', async () => {
    const data = await photo(180, 120);
    const put = store.put.bind(store);
    // The pending record is in, and the second look passed: only the takedown's delete stops it now.
    store.put = async (key, ...rest) => {
      store.put = put;
      const pending = await repo.stalePending(new Date(Date.now() + 60_000));
      assert.equal(pending.length, 1);
      const report = await takeDown(repo, store, pending[0]?.orig.hash ?? '', null);
      assert.deepEqual(report.removed.map((r) => r.id), pending.map((r) => r.id));
      await put(key, ...rest);
    };
    const res = await s.upload(data).finally(() => { store.put = put; });
    const answer = await res.json() as ErrorJson;
    assert.deepEqual([res.status, answer.error], [503, 'UPLOAD_LOST'], answer.message);
    assert.deepEqual(await storedFiles(s.dataDir), []);
    assert.equal((await s.upload(data)).status, 451);
    assert.deepEqual(await storedFiles(s.dataDir), []);
  });
});
