// Thumbnails made in a child process of lower CPU priority: the same bytes as in-process, the
// priority really lowered, refusals kept typed, and a crashed child replaced, never the server.
import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { getPriority } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { ImageTooComplex, NotAnImage, OverDecodeBudget } from '../../src/errors.js';
import { makeRendition, squareSpec, type RenditionSpec } from '../../src/images/rendition.js';
import { Thumbnailer } from '../../src/images/thumbnailer.js';
import { manyScanJpeg } from '../helpers/decode-bombs.js';
import { photo } from '../helpers/images.js';
import { tempDir } from '../helpers/server.js';
import { memoryOf, thumbnailProcesses } from '../helpers/thumbnail-process.js';

/** The value of `name` in the environment process `pid` was started with. */
async function environmentOf(pid: number, name: string): Promise<string | undefined> {
  const entries = (await readFile(`/proc/${String(pid)}/environ`, 'latin1')).split('\0');
  return entries.find((entry) => entry.startsWith(`${name}=`))?.slice(name.length + 1);
}

const spec: RenditionSpec = squareSpec(128, 'png');
const limits = { maxPixels: 100_000_000, decodeBudget: 512 * 1024 * 1024, timeoutSeconds: 30, maxJpegScans: 256, maxFrames: 10_000 };

describe('Thumbnailer', () => {
  let dir: string;
  let jpeg: string;
  let thumbnailer: Thumbnailer;
  before(async () => {
    dir = await tempDir();
    jpeg = join(dir, 'photo.jpg');
    await writeFile(jpeg, await photo(1600, 1000));
    thumbnailer = new Thumbnailer(7, 2, limits.decodeBudget);
  });
  after(async () => {
    await thumbnailer.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('makes exactly the thumbnail the in-process pipeline makes', async () => {
    const [child, local] = await Promise.all([thumbnailer.make(jpeg, spec, limits), makeRendition(jpeg, spec, limits)]);
    assert.ok(Buffer.isBuffer(child.data));
    assert.deepEqual(child, local);
  });

  it('runs in one child process at the lower priority it was given', async () => {
    const pids = await thumbnailProcesses();
    assert.equal(pids.length, 1);
    assert.equal(getPriority(pids[0]), Math.min(19, getPriority() + 7), 'seven steps lower: the kernel runs the server first');
  });

  it('gives its child two glibc malloc arenas, unless the environment names another number', async () => {
    const [pid] = await thumbnailProcesses();
    assert.ok(pid !== undefined);
    assert.equal(await environmentOf(pid, 'MALLOC_ARENA_MAX'), '2', 'freed decoder memory is kept in few arenas');
    process.env.MALLOC_ARENA_MAX = '4';
    const chosen = new Thumbnailer(0, 1, limits.decodeBudget);
    try {
      await chosen.make(jpeg, spec, limits);
      const other = (await thumbnailProcesses()).find((p) => p !== pid);
      assert.ok(other !== undefined);
      assert.equal(await environmentOf(other, 'MALLOC_ARENA_MAX'), '4', "the user's setting wins");
    } finally {
      delete process.env.MALLOC_ARENA_MAX;
      await chosen.close();
    }
  });

  it('refuses a file that is not an image with NotAnImage', async () => {
    const junk = join(dir, 'junk.jpg');
    await writeFile(junk, Buffer.concat([(await readFile(jpeg)).subarray(0, 2000)]));
    await assert.rejects(thumbnailer.make(junk, spec, limits), NotAnImage);
  });

  it('fails the thumbnails in flight when the child dies, and starts a new child for the next', async () => {
    const [pid] = await thumbnailProcesses();
    assert.ok(pid !== undefined);
    const inFlight = Array.from({ length: 4 }, () => thumbnailer.make(jpeg, spec, limits));
    process.kill(pid, 'SIGKILL');
    const settled = await Promise.allSettled(inFlight);
    for (const result of settled) {
      if (result.status === 'rejected') assert.ok(result.reason instanceof NotAnImage, String(result.reason));
    }
    assert.ok(settled.some((r) => r.status === 'rejected'), 'a killed child fails what it had not answered');
    const again = await thumbnailer.make(jpeg, spec, limits);
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

/** An interlaced 16-bit RGBA PNG of 6000x6000, which the decoder must hold whole (288 MB); returns its path. */
async function heavyPng(path: string): Promise<string> {
  await writeFile(path, await sharp({ create: { width: 6000, height: 6000, channels: 4, background: { r: 9, g: 99, b: 199, alpha: 0.5 } } })
    .toColourspace('rgb16').png({ progressive: true, compressionLevel: 1 }).toBuffer());
  return path;
}

describe('Thumbnailer bounds', () => {
  let dir: string;
  let jpeg: string;
  before(async () => {
    dir = await tempDir();
    jpeg = join(dir, 'photo.jpg');
    await writeFile(jpeg, await photo(1600, 1000));
  });
  after(async () => { await rm(dir, { recursive: true, force: true }); });

  it('kills a decode that runs past its deadline: that one is too complex, the one beside it is made anyway', async () => {
    const thumbnailer = new Thumbnailer(7, 2, limits.decodeBudget);
    try {
      // About 0.6 ms per scan for 250,000 blocks: some seconds of libjpeg that libvips cannot interrupt.
      const bomb = join(dir, 'scans.jpg');
      await writeFile(bomb, await manyScanJpeg(4000, 4000, 8000));
      await thumbnailer.make(jpeg, spec, limits);
      const [pid] = await thumbnailProcesses();
      const began = performance.now();
      const refused = thumbnailer.make(bomb, spec, { ...limits, timeoutSeconds: 1 });
      const beside = thumbnailer.make(jpeg, spec, limits);
      await assert.rejects(refused, (err: unknown) => err instanceof ImageTooComplex && /longer than 1 s/.test(err.message));
      const seconds = (performance.now() - began) / 1000;
      assert.ok(seconds >= 1 && seconds < 4.5, `refused after ${seconds.toFixed(1)} s: the deadline plus the kill margin`);
      assert.equal((await beside).width, 128);
      assert.equal((await thumbnailer.make(jpeg, spec, limits)).width, 128);
      const now = await thumbnailProcesses();
      assert.equal(now.length, 1);
      assert.notEqual(now[0], pid, 'the stuck process was killed and replaced');
    } finally {
      await thumbnailer.close();
    }
  });

  it('kills the process once it grows past its memory limit: that thumbnail is over budget, the next is made', async () => {
    // A budget of 16 MiB makes a limit of 272 MiB; the decoder must hold this PNG whole (288 MB).
    const thumbnailer = new Thumbnailer(7, 1, 16 * 1024 * 1024);
    try {
      const png = await heavyPng(join(dir, 'interlaced.png'));
      await thumbnailer.make(jpeg, spec, limits);
      const [pid] = await thumbnailProcesses();
      assert.ok(pid !== undefined);
      let peak = 0;
      const sampler = setInterval(() => { void memoryOf(pid).then(({ rss }) => { peak = Math.max(peak, rss); }); }, 20);
      try {
        await assert.rejects(thumbnailer.make(png, spec, { ...limits, decodeBudget: 16 * 1024 * 1024 }), OverDecodeBudget);
      } finally {
        clearInterval(sampler);
      }
      assert.ok(peak > 0 && peak < thumbnailer.memoryLimit + 128 * 1024 * 1024,
        `the process peaked at ${String(Math.round(peak / 1048576))} MiB against a limit of ${String(thumbnailer.memoryLimit / 1048576)} MiB`);
      assert.equal((await thumbnailer.make(jpeg, spec, limits)).width, 128);
      assert.notEqual((await thumbnailProcesses())[0], pid);
    } finally {
      await thumbnailer.close();
    }
  });

  it('tries the thumbnails caught in a memory kill once more, one at a time: the one beside the culprit is made', async () => {
    const thumbnailer = new Thumbnailer(7, 2, 16 * 1024 * 1024);
    try {
      const png = await heavyPng(join(dir, 'interlaced-2.png'));
      // Seconds of scans in little memory: still being made when the PNG grows past the limit.
      const slow = join(dir, 'slow.jpg');
      await writeFile(slow, await manyScanJpeg(2000, 2000, 6000));
      const innocent = thumbnailer.make(slow, spec, limits);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const culprit = thumbnailer.make(png, spec, { ...limits, decodeBudget: 16 * 1024 * 1024 });
      await assert.rejects(culprit, OverDecodeBudget);
      assert.equal((await innocent).width, 128);
    } finally {
      await thumbnailer.close();
    }
  });
});
