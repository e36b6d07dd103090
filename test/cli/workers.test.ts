// `imghost serve --workers N`: N processes share one port and one library, and a worker that
// dies is replaced while the others go on serving.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { solid } from '../helpers/images.js';
import { eventually, freePort, serveCli, stopCli } from '../helpers/process.js';
import { multipart, tempDir } from '../helpers/server.js';

/** Pids of the processes that logged they were ready to serve. */
const readyPids = (stderr: string): number[] =>
  stderr.split('\n').filter((line) => line.includes('"imghost is ready"'))
    .map((line) => (JSON.parse(line) as { pid: number }).pid);

describe('imghost serve --workers', () => {
  it('runs N processes on one port, replaces a dead one, and stops them all on SIGTERM', async (t) => {
    const dir = await tempDir('imghost-workers-');
    t.after(() => rm(dir, { recursive: true, force: true }));
    const port = await freePort();
    const server = await serveCli(t, port, [`--port=${String(port)}`, `--data_dir=${dir}`, '--workers=2']);
    const workers = await eventually('two workers to be ready', () => {
      const pids = readyPids(server.output.stderr());
      return pids.length === 2 ? pids : undefined;
    }, 20_000);
    assert.equal(new Set([...workers, server.child.pid]).size, 3, 'two workers besides the supervisor');
    // The supervisor never serves: the image library (and the rest of the server) is loaded by the workers alone.
    const mapped = (pid: number | undefined) => readFileSync(`/proc/${String(pid)}/maps`, 'utf8');
    assert.doesNotMatch(mapped(server.child.pid), /libvips/);
    assert.match(mapped(workers[0]), /libvips/);

    // Every request lands on one worker or the other; all see the same library.
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await fetch(`${server.url}/api/images`, { method: 'POST', body: multipart(await solid(20 + i, 20, '#446688')) });
      assert.equal(res.status, 201);
      ids.push((await res.json() as { id: string }).id);
    }
    for (let i = 0; i < 6; i++) {
      const list = await (await fetch(`${server.url}/api/images`)).json() as { images: { id: string }[] };
      assert.deepEqual(list.images.map((image) => image.id), [...ids].reverse());
    }

    const [victim] = workers;
    assert.ok(victim !== undefined);
    process.kill(victim, 'SIGKILL');
    const replacement = await eventually('a replacement worker', () =>
      readyPids(server.output.stderr()).find((pid) => !workers.includes(pid)), 20_000);
    assert.ok(replacement !== victim);
    assert.match(server.output.stderr(), /worker died; starting a new one/);
    for (const id of ids) {
      assert.equal((await fetch(`${server.url}/imgs/${id}/thumb`)).status, 200);
    }

    await stopCli(server);
    for (const pid of [...workers.filter((pid) => pid !== victim), replacement]) {
      assert.throws(() => process.kill(pid, 0), 'every worker has exited');
    }
  });
});
