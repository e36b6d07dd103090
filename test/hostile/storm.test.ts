// Every hostile class at once against the real command: `imghost serve` in a process of its own,
// thumbnails in its child process (the default thumb_nice), default limits but for a short
// request_timeout, so that half-sent uploads give their slots back within the test. One address
// sends decode bombs, a JPEG of thousands of scans, a GIF of many blocks, a WebP of many chunks and
// half-sent uploads, all at once and again on each 429 or 503, for several rounds; another
// address uploads ordinary photos meanwhile; a third samples /healthz, /readyz and the memory of
// the server and of its thumbnail process.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { defaults } from '../../src/config/options.js';
import { SqliteRepo } from '../../src/repo/sqlite.js';
import { leftovers } from '../helpers/data-dir.js';
import { photo } from '../helpers/images.js';
import { freePort, serveCli, stopCli } from '../helpers/process.js';
import { sitePath, tempDir } from '../helpers/server.js';
import { memoryOf } from '../helpers/thumbnail-process.js';
import { strippedBytes } from '../helpers/stripped.js';
import { hostileUploads, modestStorm, ORDINARY, send, storm, type Outcome } from './storm.js';

const MiB = 1024 * 1024;
const config = defaults();
// The thumbnail process is killed past 256 MiB + thumb_concurrency x decode_budget (docs/reliability.md,
// "Memory limit of the thumbnail process"); it may grow for up to 100 ms between two looks.
const childBound = 256 * MiB + config.thumb_concurrency * config.decode_budget + 128 * MiB;
// The server holds, beyond its idle memory, 23 KB per open connection (768 with an open-file
// limit of 1024), and per upload being received about 2 MiB (strip window, write buffer,
// sockets) and what reading a header keeps of at most max_frames frames and parts, well under
// 1 MiB (docs/reliability.md, "Bounds at a glance"); 8 MiB an upload leaves room for the rest.
const serverBound = (idle: number) => idle + 768 * 23 * 1024 + config.max_receiving * 8 * MiB;

const refusedForParts = new Set(['block-rich GIF', 'many-chunk WebP with EXIF']);
const refusedFromHeader = new Set(['AVIF 12-bit with alpha', 'progressive CMYK JPEG', 'interlaced 16-bit PNG', 'big GIF']);

function errorOf(outcome: Outcome): string {
  return (JSON.parse(outcome.final.body.toString()) as { error: string }).error;
}

describe('a storm of every hostile class at once from one address', () => {
  it('answers each 201 or 4xx/429/503, serves another address throughout, and stays within its memory bounds', async (t) => {
    const port = await freePort();
    const dataDir = await tempDir();
    t.after(() => rm(dataDir, { recursive: true, force: true }));
    const uploads = await hostileUploads(modestStorm);
    const half = await photo(800, 600);
    const server = await serveCli(t, port, [`--port=${String(port)}`, `--data_dir=${dataDir}`, '--request_timeout=3', '--logging=warning']);
    const pid = server.child.pid ?? 0;
    const idle = (await memoryOf(pid)).rss;

    const { rounds, ordinary, seen } = await storm(server.url, pid, modestStorm.rounds, uploads, half);

    const outcomes = rounds.flatMap((r) => r.outcomes);
    for (const outcome of outcomes) {
      t.diagnostic(`${outcome.kind}: ${outcome.answers.join(' ')} (${outcome.final.ms.toFixed(0)} ms for the last)`);
      for (const status of outcome.answers) assert.ok(status === 503 || (status >= 400 && status < 500) || status === 201, `${outcome.kind} answered ${String(status)}`);
      const { status } = outcome.final;
      if (refusedFromHeader.has(outcome.kind)) assert.deepEqual([status, errorOf(outcome)], [413, 'OVER_DECODE_BUDGET'], outcome.kind);
      else if (outcome.kind === 'many-scan JPEG') assert.deepEqual([status, errorOf(outcome)], [422, 'TOO_MANY_SCANS']);
      else if (refusedForParts.has(outcome.kind)) assert.deepEqual([status, errorOf(outcome)], [422, 'TOO_MANY_FRAMES'], outcome.kind);
      else assert.ok(status === 201 || (status >= 400 && status < 500 && status !== 429), `${outcome.kind} answered ${String(status)}`);
    }
    assert.ok(outcomes.some((o) => o.answers.includes(429)), 'the address is held to max_uploads_per_client uploads at once');
    for (const [stalled, abandoned] of rounds.map((r) => r.halfSent)) {
      assert.ok(stalled === 408 || stalled === 429, `a stalled upload is answered 408 once request_timeout passes (or 429): ${String(stalled)}`);
      assert.ok(abandoned === null || abandoned === 429, `an abandoned upload gets no answer: ${String(abandoned)}`);
    }

    // Another address is never refused, and gets back exactly what it sent.
    t.diagnostic(`ordinary uploads: ${String(ordinary.statuses.length)}`);
    assert.ok(ordinary.accepted.length >= 3);
    assert.deepEqual(ordinary.statuses, ordinary.statuses.map(() => 201));
    for (const image of ordinary.accepted) {
      const served = await send(server.url, ORDINARY, sitePath(image.url));
      assert.equal(served.status, 200);
      assert.ok(served.body.equals(image.data), `${image.id} is served byte-exact`);
    }
    // Accepted hostile files are served without their metadata, every other byte kept.
    const acceptedHostile = outcomes.filter((o) => o.final.status === 201);
    for (const outcome of acceptedHostile) {
      const { url } = JSON.parse(outcome.final.body.toString()) as { url: string };
      const upload = uploads.find((u) => u.kind === outcome.kind);
      assert.ok(upload);
      assert.ok((await send(server.url, ORDINARY, sitePath(url))).body.equals(await strippedBytes(upload.data, upload.format)), `${outcome.kind} is served stripped`);
    }

    t.diagnostic(`slowest /healthz or /readyz: ${seen.slowestMs.toFixed(0)} ms of ${String(seen.statuses.length)}`);
    assert.deepEqual(seen.statuses, seen.statuses.map(() => 200));
    assert.ok(seen.slowestMs < 1000, `/healthz and /readyz answered within ${seen.slowestMs.toFixed(0)} ms`);
    const childPeaks = [...seen.childPeaks.values()];
    t.diagnostic(`RSS: server idle ${(idle / MiB).toFixed(0)} MiB, peak ${(seen.serverPeak / MiB).toFixed(0)} MiB, thumbnail process ${childPeaks.map((p) => (p / MiB).toFixed(0)).join(', ')} MiB`);
    assert.ok(childPeaks.length >= 1, 'thumbnails are made in a child process');
    const bound = serverBound(idle);
    assert.ok(seen.serverPeak < bound, `server peak ${String(seen.serverPeak)} < ${String(bound)}`);
    for (const peak of childPeaks) assert.ok(peak < childBound, `thumbnail process peak ${String(peak)} < ${String(childBound)}`);

    // Ready afterwards, and holding exactly the accepted images, nothing half-stored.
    assert.equal((await send(server.url, ORDINARY, '/readyz')).status, 200);
    await stopCli(server);
    assert.doesNotMatch(server.output.stderr() + server.output.stdout(), /"level":50|request failed/);
    assert.deepEqual(await leftovers(dataDir), { unfinished: [], orphans: [], temp: [] });
    const repo = new SqliteRepo(join(dataDir, 'imghost.db'));
    try {
      const ids = (await repo.list(1000)).map((r) => r.id).sort();
      const acceptedIds = [...ordinary.accepted.map((i) => i.id), ...acceptedHostile.map((o) => (JSON.parse(o.final.body.toString()) as { id: string }).id)];
      assert.deepEqual(ids, acceptedIds.sort());
    } finally {
      await repo.close();
    }
  });
});
