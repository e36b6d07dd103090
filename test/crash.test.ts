// Crashes lose nothing: `imghost serve` runs as a real process while many uploads are in flight
// and is killed with SIGKILL at random moments (seeded: set IMGHOST_CRASH_SEED to replay a run),
// then restarted on the same data directory, several times over. Afterwards every upload that was
// answered 201 is listed and served byte for byte, no record points at a missing blob, and what the
// crashes left behind (spooled uploads, unfinished records, orphan blobs) is swept by `imghost gc`
// once the dead servers' leases ran out, which names each thing it removes.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { runCli } from './helpers/cli.js';
import { assertVerifyClean, leftovers, outliveLeases } from './helpers/data-dir.js';
import { prng } from './helpers/hostile.js';
import { animatedGif, photo, rotatedJpeg, solid } from './helpers/images.js';
import { listedIds } from './helpers/listing.js';
import { exitOf, freePort, serveCli, stopCli, type Running } from './helpers/process.js';
import { multipart, sitePath, tempDir, type UploadedImage } from './helpers/server.js';

const SEED = Number(process.env.IMGHOST_CRASH_SEED ?? 6_04_2024);
const ROUNDS = 4;
const UPLOADERS = 6;

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** Varied uploads: several formats and sizes, and one image twice, so duplicates race too. */
async function imagePool(): Promise<Buffer[]> {
  const twice = await photo(320, 240);
  return [twice, twice, await photo(640, 480), await photo(300, 300, 'png'), await photo(400, 250, 'webp'),
    await photo(200, 150, 'tiff'), await animatedGif(4, 120, 90), await rotatedJpeg(300, 200),
    await solid(500, 80, '#a03060'), await solid(20, 20, '#30a060', 'gif')];
}

interface Round { answered: number; interrupted: number }

/**
 * Uploads from `uploaders` loops until the server dies, and kills it with SIGKILL once the
 * `killAfter`-th answer of this round has come: uploads are then certainly in flight.
 */
async function uploadUntilKilled(server: Running, pool: Buffer[], random: () => number, killAfter: number,
  answered: Map<string, UploadedImage>): Promise<Round> {
  const round: Round = { answered: 0, interrupted: 0 };
  let killed = false;
  const kill = async (): Promise<void> => {
    if (killed) return;
    killed = true;
    server.child.kill('SIGKILL');
    await exitOf(server.child);
  };
  const uploader = async (): Promise<void> => {
    while (!killed) {
      const data = pool[Math.floor(random() * pool.length)] ?? Buffer.alloc(0);
      let res: Response;
      let text: string;
      try {
        res = await fetch(`${server.url}/api/images`, { method: 'POST', body: multipart(data) });
        text = await res.text();
      } catch {
        // The server died before answering: this upload may or may not have been stored.
        round.interrupted++;
        return;
      }
      // Busy (503) is an answer too; only 201 promises anything.
      if (res.status !== 201) continue;
      const image = JSON.parse(text) as UploadedImage;
      answered.set(image.id, image);
      if (++round.answered === killAfter) await kill();
    }
  };
  await Promise.all(Array.from({ length: UPLOADERS }, uploader));
  return round;
}

describe('SIGKILL while uploads are in flight', () => {
  it('loses no answered upload, leaves no record without its blobs, and gc sweeps the rest', async (t) => {
    t.diagnostic(`seed ${String(SEED)} (IMGHOST_CRASH_SEED replays it)`);
    // Separate streams: the uploaders draw images in an order timing decides, the kill points do not.
    const killPoints = prng(SEED);
    const choices = prng(SEED + 1);
    const dataDir = await tempDir('imghost-crash-');
    t.after(() => rm(dataDir, { recursive: true, force: true }));
    const pool = await imagePool();
    const answered = new Map<string, UploadedImage>();
    let interrupted = 0;

    for (let i = 0; i < ROUNDS; i++) {
      const port = await freePort();
      const server = await serveCli(t, port, [`--port=${String(port)}`, `--data_dir=${dataDir}`, '--logging=warning']);
      const killAfter = 1 + Math.floor(killPoints() * 6);
      const round = await uploadUntilKilled(server, pool, choices, killAfter, answered);
      t.diagnostic(`round ${String(i + 1)}: killed after answer ${String(killAfter)}; ${String(round.interrupted)} uploads cut off`);
      interrupted += round.interrupted;
    }
    assert.ok(interrupted > 0, 'the kills cut uploads off half-way');

    const port = await freePort();
    const server = await serveCli(t, port, [`--port=${String(port)}`, `--data_dir=${dataDir}`, '--logging=warning']);
    const listed = await listedIds(server.url);
    for (const [id, image] of answered) {
      assert.ok(listed.has(id), `answered upload ${id} is listed`);
      const orig = await fetch(`${server.url}${sitePath(image.url)}`);
      assert.equal(orig.status, 200);
      assert.equal(sha256(Buffer.from(await orig.arrayBuffer())), image.sha256, `${id} is served byte for byte`);
      const thumb = await fetch(`${server.url}${sitePath(image.thumb_url)}`);
      assert.equal(thumb.status, 200);
      assert.equal((await thumb.arrayBuffer()).byteLength, image.thumb.bytes);
    }
    await stopCli(server);
    t.diagnostic(`${String(answered.size)} uploads answered, ${String(listed.size - answered.size)} more stored whose answer was cut off`);

    await assertVerifyClean(dataDir);
    const left = await leftovers(dataDir);
    t.diagnostic(`left by the crashes: ${String(left.unfinished.length)} unfinished uploads, `
      + `${String(left.orphans.length)} orphan blobs, ${String(left.temp.length)} temporary files`);
    // The killed servers renew no lease: fast-forward to when theirs have run out.
    await outliveLeases(dataDir);
    const gc = await runCli(['gc', `--data_dir=${dataDir}`, '--gc_grace=0']);
    assert.equal(gc.code, 0, gc.stderr);
    for (const id of left.unfinished) assert.ok(gc.stdout.includes(`removed unfinished upload ${id}\n`), `gc names ${id}`);
    for (const key of left.orphans) assert.ok(gc.stdout.includes(`removed orphan blob ${key}\n`), `gc names ${key}`);
    for (const path of left.temp) assert.ok(gc.stdout.includes(`removed temporary file ${path}\n`), `gc names ${path}`);
    assert.deepEqual(await leftovers(dataDir), { unfinished: [], orphans: [], temp: [] });
    // Sweeping took nothing an image needs.
    await assertVerifyClean(dataDir);
  });
});
