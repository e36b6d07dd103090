// `imghost serve` as a user runs it: a separate process on a real port, stopped by a signal.
import assert from 'node:assert/strict';
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { photo, solid } from '../helpers/images.js';
import { eventually, exitOf, freePort, serveCli, stopCli, within } from '../helpers/process.js';
import { multipart, sitePath, startTestServer, tempDir, type UploadedImage } from '../helpers/server.js';

/** A request body that sends `data` in `count` pieces, calling `afterChunk` after each one is queued. */
function chunkedBody(data: Buffer, count: number, afterChunk: (index: number) => Promise<void>): ReadableStream<Uint8Array> {
  const size = Math.ceil(data.length / count);
  let index = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (index * size >= data.length) { controller.close(); return; }
      controller.enqueue(new Uint8Array(data.subarray(index * size, (index + 1) * size)));
      await afterChunk(index);
      index++;
    },
  });
}

const bytesOf = async (res: Response): Promise<Buffer> => Buffer.from(await res.arrayBuffer());

// The tests are independent processes on their own ports and directories: run them at once.
describe('imghost serve', { concurrency: true }, () => {
  let dir: string;
  before(async () => { dir = await tempDir('imghost-serve-'); });
  after(() => rm(dir, { recursive: true, force: true }));

  it('answers /readyz and takes uploads over HTTP on the given port and address', async (t) => {
    const port = await freePort();
    const dataDir = join(dir, 'basic');
    const server = await serveCli(t, port, [`--port=${String(port)}`, `--data_dir=${dataDir}`]);
    const ready = await (await fetch(`${server.url}/readyz`)).json() as { status: string; checks: Record<string, boolean> };
    assert.deepEqual(ready, { status: 'ready', checks: { db: true, store: true }, down: [] });

    const png = await solid(60, 40, '#336699');
    const res = await fetch(`${server.url}/api/images`, { method: 'POST', body: multipart(png, { filename: 'quick.png', type: 'image/png' }) });
    assert.equal(res.status, 201);
    const image = await res.json() as UploadedImage;
    assert.deepEqual([image.name, image.width, image.height], ['quick.png', 60, 40]);
    assert.deepEqual(await bytesOf(await fetch(`${server.url}${sitePath(image.url)}`)), png);
    await stopCli(server);
    // The embedded storage lives where --data_dir said.
    assert.ok((await stat(join(dataDir, 'imghost.db'))).isFile());
  });

  it('on SIGTERM finishes an upload in flight with 201, exits 0, and the image survives a restart', async (t) => {
    const port = await freePort();
    const dataDir = join(dir, 'graceful');
    // A long shutdown timeout: the process must exit once the upload is done, not when this expires.
    // At debug level the server logs each request as it arrives.
    const server = await serveCli(t, port, [`--port=${String(port)}`, `--data_dir=${dataDir}`, '--shutdown_timeout=120', '--logging=debug']);
    const { child, output, url } = server;

    const png = await photo(300, 200, 'png');
    let signalledAt = -1;
    const body = chunkedBody(png, 20, async (index) => {
      if (index === 2) {
        // The server has begun reading this request: ask it to stop, then keep sending.
        await eventually('the server to log the upload request', () => output.stderr().includes('"url":"/api/images?name=slow.png"'));
        child.kill('SIGTERM');
        await eventually('the server to begin shutting down', () => output.stderr().includes('shutting down'));
        signalledAt = index;
      }
      await sleep(20);
    });
    const upload = await fetch(`${url}/api/images?name=slow.png`, {
      method: 'POST', body, duplex: 'half', headers: { 'content-type': 'image/png' },
    } as RequestInit);
    assert.equal(signalledAt, 2, 'SIGTERM was sent while the upload was in flight');
    const text = await upload.text();
    assert.equal(upload.status, 201, text);
    const image = JSON.parse(text) as UploadedImage;
    assert.deepEqual([image.name, image.bytes, image.width, image.height], ['slow.png', png.length, 300, 200]);

    const exit = await within(exitOf(child), 20_000,
      'the server to exit once the in-flight upload was answered (it must not wait for --shutdown_timeout)');
    assert.deepEqual(exit, { code: 0, signal: null }, output.stderr());
    const messages = output.stderr().trim().split('\n').map((line) => (JSON.parse(line) as { msg: string }).msg);
    const uploaded = messages.indexOf('image uploaded');
    assert.ok(uploaded >= 0 && uploaded < messages.indexOf('stopped'), `the upload finished before the server stopped: ${messages.join(' | ')}`);

    const again = await startTestServer({ data_dir: dataDir });
    try {
      assert.deepEqual(await bytesOf(await again.fetch(image.url)), png);
      const listed = await (await again.fetch('/api/images')).json() as { images: { id: string }[] };
      assert.deepEqual(listed.images.map((i) => i.id), [image.id]);
    } finally {
      await again.close();
    }
  });

  it('takes its options from IMGHOST_* environment variables', async (t) => {
    const port = await freePort();
    const dataDir = join(dir, 'from-env');
    const server = await serveCli(t, port, [], { IMGHOST_PORT: String(port), IMGHOST_DATA_DIR: dataDir, IMGHOST_THUMB_SIZE: '32' });
    const image = await (await fetch(`${server.url}/api/images`, { method: 'POST', body: multipart(await solid(100, 50, '#aa0000')) })).json() as UploadedImage;
    assert.deepEqual([image.thumb.width, image.thumb.height], [32, 16]);
    await stopCli(server);
    assert.ok((await stat(join(dataDir, 'imghost.db'))).isFile());
  });

  it('writes JSON log lines to size-rotated files, keeping at most num_backups + 1 of them', async (t) => {
    const port = await freePort();
    const logDir = join(dir, 'logs');
    const backups = 2;
    const server = await serveCli(t, port, [
      `--port=${String(port)}`, `--data_dir=${join(dir, 'logged')}`,
      `--log_file_prefix=${logDir}/imghost`, '--log_file_max_size=2k', `--log_file_num_backups=${String(backups)}`,
    ]);
    // pino-roll names the files <prefix>.<n>.log, counting up as it rotates; its worker makes the
    // directory in its own time.
    const logNumbers = async (): Promise<number[]> =>
      (await readdir(logDir).catch(() => [])).map((n) => Number(/^imghost\.(\d+)\.log$/.exec(n)?.[1] ?? NaN)).sort((a, b) => a - b);
    // Each request logs two lines of about 250 bytes; keep asking until the log has rotated
    // more often than files are kept, so old files must have been removed.
    let requests = 0;
    await eventually('the log to rotate', async () => {
      for (let i = 0; i < 10; i++, requests++) {
        const res = await fetch(`${server.url}/healthz?n=${String(requests)}`);
        assert.equal(res.status, 200);
        await res.arrayBuffer();
      }
      return (await logNumbers()).some((n) => n > backups + 1);
    }, 20_000);
    await stopCli(server);
    // With a log file, logs no longer go to stderr unless asked.
    assert.equal(server.output.stderr(), '');

    const names = await readdir(logDir);
    const numbers = await logNumbers();
    assert.ok(numbers.every((n) => Number.isInteger(n)), `only rotated log files: ${names.join(', ')}`);
    assert.ok(numbers.length >= 2, `several log files: ${names.join(', ')}`);
    assert.ok(numbers.length <= backups + 1, `at most ${String(backups + 1)} files kept: ${names.join(', ')}`);
    const newest = numbers.at(-1) ?? 0;
    assert.deepEqual(numbers, numbers.map((_, i) => newest - numbers.length + 1 + i), 'the newest files are the ones kept');

    // Read in order, the kept files are whole JSON lines ending with the last requests and the
    // shutdown. (The newest file may be empty: pino-roll opens it when the last write fills the one before.)
    const lines: { level: number; time: number; msg: string; req?: { url: string } }[] = [];
    for (const n of numbers) {
      const path = join(logDir, `imghost.${String(n)}.log`);
      const text = await readFile(path, 'utf8');
      if (text === '') continue;
      assert.ok(text.endsWith('\n'), `${path} ends with a whole line`);
      for (const line of text.trimEnd().split('\n')) lines.push(JSON.parse(line) as (typeof lines)[number]);
    }
    for (const entry of lines) {
      assert.equal(typeof entry.level, 'number');
      assert.equal(typeof entry.time, 'number');
      assert.equal(typeof entry.msg, 'string');
    }
    assert.ok(lines.some((e) => e.req?.url === `/healthz?n=${String(requests - 1)}`), 'the last request is logged');
    assert.equal(lines.at(-1)?.msg, 'stopped', 'the last line before exit was flushed');
  });
});
