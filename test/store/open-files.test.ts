// OpenFiles, the file store's cache of open blob files: bounded, shared by concurrent readers,
// and closed (once its readers are done) when the blob is forgotten, evicted or the cache closed.
// Which files are open is read from /proc/self/fd, as the kernel sees them.
import assert from 'node:assert/strict';
import { fstatSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { OpenFiles } from '../../src/store/open-files.js';
import { tempDir } from '../helpers/server.js';
import { eventually, openUnder } from './open-fds.js';

describe('OpenFiles', () => {
  let dir: string;
  const files: string[] = [];
  before(async () => {
    dir = await tempDir('imghost-openfiles-');
    for (let i = 0; i < 6; i++) {
      files.push(join(dir, `f${String(i)}`));
      await writeFile(join(dir, `f${String(i)}`), Buffer.alloc(10 + i));
    }
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('lends one descriptor to concurrent readers of a file, with its size', async () => {
    const cache = new OpenFiles(4);
    const [a, b] = await Promise.all([cache.lease('f2', files[2] ?? ''), cache.lease('f2', files[2] ?? '')]);
    assert.equal(a.fd, b.fd);
    assert.equal(a.bytes, 12);
    assert.equal(openUnder(dir), 1);
    a.release(); b.release();
    cache.close();
    await eventually(() => openUnder(dir) === 0);
  });

  it('keeps at most its bound open, closing the least recently used', async () => {
    const cache = new OpenFiles(3);
    for (const [i, path] of files.entries()) (await cache.lease(`f${String(i)}`, path)).release();
    await eventually(() => openUnder(dir) === 3);
    cache.close();
    await eventually(() => openUnder(dir) === 0);
  });

  it('closes a forgotten file only once its last reader releases it, and never lends it again', async () => {
    const cache = new OpenFiles(4);
    const held = await cache.lease('f0', files[0] ?? '');
    cache.forget('f0');
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(fstatSync(held.fd).size, 10, 'a reader still holding the descriptor can read it');
    const again = await cache.lease('f0', files[0] ?? '');
    assert.notEqual(again.fd, held.fd);
    held.release();
    held.release(); // a second release changes nothing
    await eventually(() => openUnder(dir) === 1);
    again.release();
    cache.close();
    await eventually(() => openUnder(dir) === 0);
  });

  it('does not keep a file forgotten while it was being opened', async () => {
    const cache = new OpenFiles(4);
    const opening = cache.lease('f1', files[1] ?? '');
    cache.forget('f1');
    (await opening).release();
    await eventually(() => openUnder(dir) === 0);
    cache.close();
  });

  it('rejects as open does for a missing file, and keeps nothing', async () => {
    const cache = new OpenFiles(4);
    await assert.rejects(cache.lease('gone', join(dir, 'gone')), { code: 'ENOENT' });
    assert.equal(openUnder(dir), 0);
    cache.close();
  });
});
