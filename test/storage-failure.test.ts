// A full disk or a read-only data directory: uploads fail with 507 or 503 and a log line that
// says why, images already stored are still served, nothing half-written is left, and uploads
// work again once the space or the write permission is back, without a restart.
//
// The conditions are real, not simulated: a small tmpfs filled to the last page (ENOSPC), and
// the data directory bind-mounted read-only over itself (EROFS). Both need root and mount, which
// CI has. Without mount, a non-root run makes the directory read-only with chmod (EACCES); root
// ignores file modes, so a root run without mount skips what it cannot make happen.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmod, mkdir, readFile, rm, stat, statfs, truncate, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import type { Config } from '../src/config/options.js';
import { assertVerifyClean, leftovers, type Leftovers } from './helpers/data-dir.js';
import { fill, mountWorks, run, smallDisk } from './helpers/disk.js';
import { photo, solid } from './helpers/images.js';
import { eventually } from './helpers/process.js';
import { startTestServer, tempDir, type TestServer, type UploadedImage } from './helpers/server.js';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const isRoot = process.getuid?.() === 0;

const readOnlyBy: 'mount' | 'chmod' | null = mountWorks ? 'mount' : isRoot ? null : 'chmod';

/** A server on `dataDir` logging to a file, with a few images stored while all was well. */
async function serverWithImages(dataDir: string, logDir: string, overrides: Partial<Config> = {}): Promise<{ server: TestServer; stored: UploadedImage[] }> {
  const server = await startTestServer({ data_dir: dataDir, logging: 'info', log_file_prefix: join(logDir, 'imghost'), ...overrides });
  const stored: UploadedImage[] = [];
  for (const data of [await photo(160, 120), await solid(30, 20, '#4080c0'), await photo(90, 140, 'png')]) {
    stored.push(await server.uploadOk(data));
  }
  return { server, stored };
}

/** Every stored image is listed and served byte for byte, its thumbnail too; nothing else is listed. */
async function assertStillServed(server: TestServer, stored: UploadedImage[]): Promise<void> {
  for (const image of stored) {
    const orig = await server.fetch(image.url);
    assert.equal(orig.status, 200);
    assert.equal(sha256(Buffer.from(await orig.arrayBuffer())), image.sha256);
    const thumb = await server.fetch(image.thumb_url);
    assert.equal(thumb.status, 200);
    assert.equal((await thumb.arrayBuffer()).byteLength, image.thumb.bytes);
  }
  const listed = await (await server.fetch('/api/images')).json() as { images: { id: string }[] };
  assert.deepEqual(listed.images.map((i) => i.id).sort(), stored.map((image) => image.id).sort());
}

/** The last error log line with this error code. */
async function loggedError(logDir: string, code: string): Promise<{ level: number; msg: string; err: { code: string } }> {
  return eventually(`a log line for ${code}`, async () => {
    const log = await readFile(join(logDir, 'imghost.1.log'), 'utf8').catch(() => '');
    const line = log.split('\n').findLast((l) => l.includes(`"code":"${code}"`));
    return line === undefined ? undefined : JSON.parse(line) as { level: number; msg: string; err: { code: string } };
  });
}

describe('a full disk', { skip: mountWorks ? false : 'needs root and mount to make a small tmpfs' }, () => {
  let mountDir: string;
  let unmount: () => Promise<void>;
  let dataDir: string;
  let logDir: string;
  let server: TestServer;
  let stored: UploadedImage[];
  let filler: string;
  before(async () => {
    ({ dir: mountDir, unmount } = await smallDisk('16m'));
    dataDir = join(mountDir, 'data');
    filler = join(mountDir, 'filler');
    logDir = await tempDir('imghost-full-log-');
    // Large PNG thumbnails of noise (about 340 kB) let a disk be left with room for an upload's
    // spooled bytes and its record but not for its thumbnail.
    ({ server, stored } = await serverWithImages(dataDir, logDir, { thumb_size: 400, thumb_format: 'png' }));
  });
  afterEach(() => rm(filler, { force: true }));
  after(async () => {
    await server.close();
    await unmount();
    await rm(logDir, { recursive: true, force: true });
  });

  /**
   * After a failed upload: the old images are served, nothing new is visible or damaged, and once
   * there is room again gc (the server's own, as `imghost gc` runs it) removes what the failure
   * left, and uploads work again.
   */
  async function assertRecovers(): Promise<Leftovers> {
    await assertStillServed(server, stored);
    await assertVerifyClean(dataDir);
    await unlink(filler);
    const left = await leftovers(dataDir);
    const report = await server.server.library.collectGarbage(0);
    assert.deepEqual(report.unfinished.sort(), left.unfinished);
    assert.deepEqual(report.temp.sort(), left.temp);
    for (const key of left.orphans) assert.ok(report.blobs.includes(key), `gc removed orphan blob ${key}`);
    assert.deepEqual(await leftovers(dataDir), { unfinished: [], orphans: [], temp: [] });
    stored.push(await server.uploadOk(await solid(25, 25 + stored.length, '#c08040')));
    await assertStillServed(server, stored);
    return left;
  }

  it('answers 507 when the upload cannot even be received, logs why, and leaves nothing behind', async () => {
    await fill(filler);
    const res = await server.upload(await photo(200, 150));
    assert.equal(res.status, 507);
    assert.deepEqual(await res.json(), { status: 507, error: 'ENOSPC', message: 'the server has no storage space left', request_id: res.headers.get('x-request-id') });
    const line = await loggedError(logDir, 'ENOSPC');
    assert.equal(line.level, 50, 'logged as an error: an operator must act');
    assert.equal(line.msg, 'the server has no storage space left');
    assert.deepEqual(await assertRecovers(), { unfinished: [], orphans: [], temp: [] });
  });

  // Room for the spooled upload plus `pages` 4 KiB pages: too little for the database to grow
  // by the upload's record, or enough for the record but not for the thumbnail.
  for (const { pages, fails, code } of [
    { pages: 1, fails: 'its record', code: 'SQLITE_FULL' },
    { pages: 40, fails: 'its thumbnail', code: 'ENOSPC' },
  ]) {
    it(`answers 507 when the disk is full before ${fails} is written, and only gc-able leftovers remain`, async () => {
      const data = await photo(500, 400, 'png');
      await fill(filler);
      await truncate(filler, (await stat(filler)).size - data.length - pages * 4096);
      const res = await server.upload(data);
      assert.equal(res.status, 507);
      assert.deepEqual(await res.json(), { status: 507, error: code, message: 'the server has no storage space left', request_id: res.headers.get('x-request-id') });
      assert.equal((await loggedError(logDir, code)).msg, 'the server has no storage space left');
      const left = await assertRecovers();
      assert.deepEqual(left.temp, [], 'no temporary file');
      if (code === 'ENOSPC') {
        // The original was stored before the thumbnail failed; the failed upload took back its
        // record and that original itself, so gc has nothing of it left to remove.
        assert.deepEqual(left, { unfinished: [], orphans: [], temp: [] });
      }
    });
  }

  it('gets the space of a deleted image back at once', async () => {
    // A WebP: libvips keeps WebP and GIF inputs mapped in its file cache, which held the space of
    // a deleted original for as long as the cache kept it.
    const data = await photo(400, 300, 'webp');
    const image = await server.uploadOk(data);
    const free = async () => { const { bavail, bsize } = await statfs(mountDir); return bavail * bsize; };
    const before = await free();
    const res = await server.fetch(`/api/images/${image.id}`, { method: 'DELETE', headers: { 'x-delete-token': image.delete_token } });
    assert.equal(res.status, 204);
    const freed = await free() - before;
    assert.ok(freed >= image.bytes, `${String(freed)} bytes freed by deleting a ${String(image.bytes)}-byte original`);
  });
});

/** Makes `dir` unwritable the strongest way available, and gives back a function that undoes it. */
async function makeReadOnly(dir: string): Promise<() => Promise<void>> {
  if (readOnlyBy === 'mount') {
    // Files the server has open keep working through the original mount, as SQLite's do; every
    // file opened from now on, the upload spool first, meets a read-only filesystem.
    await run('mount', ['--bind', dir, dir]);
    await run('mount', ['-o', 'remount,bind,ro', dir]);
    // Lazily: blob files served meanwhile stay open in the server's cache of open files, holding
    // the read-only mount until they are closed; they read the same bytes either way.
    return async () => { await run('umount', ['--lazy', dir]); };
  }
  const dirs = [dir, join(dir, 'tmp'), join(dir, 'blobs'), join(dir, 'blobs', '.tmp')];
  for (const d of dirs) await chmod(d, 0o555);
  return async () => { for (const d of dirs) await chmod(d, 0o755); };
}

describe('a read-only data directory', { skip: readOnlyBy === null ? 'running as root without mount: file modes cannot make a directory read-only for root' : false }, () => {
  let dataDir: string;
  let logDir: string;
  let server: TestServer;
  let stored: UploadedImage[];
  let undo: (() => Promise<void>) | null = null;
  before(async () => {
    const dir = await tempDir('imghost-ro-');
    dataDir = join(dir, 'data');
    await mkdir(dataDir);
    logDir = await tempDir('imghost-ro-log-');
    ({ server, stored } = await serverWithImages(dataDir, logDir));
  });
  after(async () => {
    await undo?.();
    await server.close();
    await rm(join(dataDir, '..'), { recursive: true, force: true });
    await rm(logDir, { recursive: true, force: true });
  });

  it(`answers 503 to an upload, logs why, keeps serving and recovers (made read-only by ${String(readOnlyBy)})`, async () => {
    undo = await makeReadOnly(dataDir);
    const expected = readOnlyBy === 'mount'
      ? { status: 503, error: 'EROFS', message: 'the server storage is read-only' }
      : { status: 503, error: 'EACCES', message: 'the server storage is not writable' };
    const res = await server.upload(await photo(200, 150));
    assert.equal(res.status, 503);
    assert.deepEqual(await res.json(), { ...expected, request_id: res.headers.get('x-request-id') });
    const line = await loggedError(logDir, expected.error);
    assert.equal(line.level, 50);
    assert.equal(line.msg, expected.message);
    await assertStillServed(server, stored);

    await undo();
    undo = null;
    assert.deepEqual(await leftovers(dataDir), { unfinished: [], orphans: [], temp: [] });
    stored.push(await server.uploadOk(await solid(26, 26, '#40c080')));
    await assertStillServed(server, stored);
    await assertVerifyClean(dataDir);
  });
});
