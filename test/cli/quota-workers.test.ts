// A quota on the embedded library holds across processes: `imghost serve --workers=2` takes 20
// concurrent uploads of one user, on both workers, against a limit of 5, and accepts exactly 5
// (each worker's check and insert are one SQLite write transaction, taken before the count).
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { solid } from '../helpers/images.js';
import { eventually, freePort, serveCli, stopCli } from '../helpers/process.js';
import { multipart, tempDir } from '../helpers/server.js';

const readyWorkers = (stderr: string): number => stderr.split('\n').filter((line) => line.includes('"imghost is ready"')).length;

describe('quotas with imghost serve --workers=2', () => {
  it('accepts exactly the images that fit from 20 concurrent uploads spread over both workers', async (t) => {
    const dir = await tempDir('imghost-quota-workers-');
    t.after(() => rm(dir, { recursive: true, force: true }));
    const added = await runCli(['users', 'add', 'alice', '--max_images=5', `--data_dir=${dir}`]);
    assert.equal(added.code, 0, added.stderr);
    const key = (await runCli(['keys', 'add', 'alice', `--data_dir=${dir}`])).stdout.trim();
    const port = await freePort();
    const server = await serveCli(t, port, [`--port=${String(port)}`, `--data_dir=${dir}`, '--workers=2', '--uploads=users',
      '--max_uploads_per_client=0', '--max_receiving=20', '--thumb_nice=0']);
    await eventually('two workers to be ready', () => readyWorkers(server.output.stderr()) === 2, 20_000);

    const image = await solid(24, 24, '#446688');
    const answers = await Promise.all(Array.from({ length: 20 }, () =>
      fetch(`${server.url}/api/images`, { method: 'POST', body: multipart(image), headers: { authorization: `Bearer ${key}` } })));
    await Promise.all(answers.map((res) => res.arrayBuffer()));
    assert.deepEqual(answers.map((res) => res.status).sort(), [...Array<number>(5).fill(201), ...Array<number>(15).fill(413)]);
    const servedBy = new Set(server.output.stderr().split('\n').filter((line) => line.includes('QUOTA_EXCEEDED') || line.includes('"image uploaded"'))
      .map((line) => (JSON.parse(line) as { pid: number }).pid));
    assert.equal(servedBy.size, 2, 'both workers took uploads');
    await stopCli(server);
    const listed = await runCli(['users', 'list', `--data_dir=${dir}`]);
    assert.match(listed.stdout, /^alice +no limit +\S+ B +5 +5 +1$/m);
  });
});
