// Thumbnails made in a child process of lower CPU priority: the same bytes as in-process, the
// priority really lowered, refusals kept typed, and a crashed child replaced, never the server.
import assert from 'node:assert/strict';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { getPriority } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { NotAnImage } from '../../src/errors.js';
import { makeThumbnail, type ThumbSpec } from '../../src/images/thumbnail.js';
import { Thumbnailer } from '../../src/images/thumbnailer.js';
import { photo } from '../helpers/images.js';
import { tempDir } from '../helpers/server.js';

const spec: ThumbSpec = { size: 128, format: 'png' };
const MAX_PIXELS = 100_000_000;

/** Pids of this process's children running the thumbnail process. */
async function thumbnailProcesses(): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const [stat, cmdline] = await Promise.all([readFile(`/proc/${entry}/stat`, 'utf8'), readFile(`/proc/${entry}/cmdline`, 'utf8')]);
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (parent === process.pid && cmdline.includes('thumbnail-process')) pids.push(Number(entry));
    } catch { /* the process ended while we looked */ }
  }
  return pids;
}

describe('Thumbnailer', () => {
  let dir: string;
  let jpeg: string;
  let thumbnailer: Thumbnailer;
  before(async () => {
    dir = await tempDir();
    jpeg = join(dir, 'photo.jpg');
    await writeFile(jpeg, await photo(1600, 1000));
    thumbnailer = new Thumbnailer(7, 2);
  });
  after(async () => {
    await thumbnailer.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('makes exactly the thumbnail the in-process pipeline makes', async () => {
    const [child, local] = await Promise.all([thumbnailer.make(jpeg, spec, MAX_PIXELS), makeThumbnail(jpeg, spec, MAX_PIXELS)]);
    assert.ok(Buffer.isBuffer(child.data));
    assert.deepEqual(child, local);
  });

  it('runs in one child process at the lower priority it was given', async () => {
    const pids = await thumbnailProcesses();
    assert.equal(pids.length, 1);
    assert.equal(getPriority(pids[0]), Math.min(19, getPriority() + 7), 'seven steps lower: the kernel runs the server first');
  });

  it('refuses a file that is not an image with NotAnImage', async () => {
    const junk = join(dir, 'junk.jpg');
    await writeFile(junk, Buffer.concat([(await readFile(jpeg)).subarray(0, 2000)]));
    await assert.rejects(thumbnailer.make(junk, spec, MAX_PIXELS), NotAnImage);
  });

  it('fails the thumbnails in flight when the child dies, and starts a new child for the next', async () => {
    const [pid] = await thumbnailProcesses();
    assert.ok(pid !== undefined);
    const inFlight = Array.from({ length: 4 }, () => thumbnailer.make(jpeg, spec, MAX_PIXELS));
    process.kill(pid, 'SIGKILL');
    const settled = await Promise.allSettled(inFlight);
    for (const result of settled) {
      if (result.status === 'rejected') assert.ok(result.reason instanceof NotAnImage, String(result.reason));
    }
    assert.ok(settled.some((r) => r.status === 'rejected'), 'a killed child fails what it had not answered');
    const again = await thumbnailer.make(jpeg, spec, MAX_PIXELS);
    assert.equal(again.width, 128);
    const now = await thumbnailProcesses();
    assert.equal(now.length, 1);
    assert.notEqual(now[0], pid);
  });

  it('ends its child on close', async () => {
    const [pid] = await thumbnailProcesses();
    assert.ok(pid !== undefined);
    await thumbnailer.close();
    assert.deepEqual(await thumbnailProcesses(), []);
  });
});
