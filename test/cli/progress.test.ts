// Progress of the long commands: a bar on a terminal; in a pipe or a log, a start line, a line at
// each further tenth no more often than every few seconds, and a closing line, so a log of a long
// run stays short and a quick run prints two lines.
import assert from 'node:assert/strict';
import { randomBytes, createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { progressReporter, type ProgressOutput } from '../../src/cli/progress.js';
import { SqliteRepo } from '../../src/repo/sqlite.js';
import { FsStore } from '../../src/store/fs.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/server.js';
import { image, ready } from '../repo/contract.js';

/** A non-terminal stream that keeps its lines, and a clock the test moves. */
function pipe(): { output: ProgressOutput; lines: string[]; advance: (ms: number) => void } {
  const lines: string[] = [];
  let time = 1_000_000;
  const output: ProgressOutput = {
    stream: { isTTY: false, write: (chunk: string | Uint8Array) => { lines.push(String(chunk).trimEnd()); return true; } },
    now: () => time,
  };
  return { output, lines, advance: (ms) => { time += ms; } };
}

describe('progress in a pipe', () => {
  it('prints a start line and a closing line for a quick run, whatever the number of updates', () => {
    const { output, lines, advance } = pipe();
    const progress = progressReporter('images', output);
    for (let done = 0; done <= 14; done++) {
      progress.update({ total: 14, done });
      advance(20);
    }
    progress.stop();
    assert.deepEqual(lines, ['images: 0/14, starting', 'images: 14/14 in 0.3 s']);
  });

  it('adds a line at each further tenth', () => {
    const { output, lines, advance } = pipe();
    const progress = progressReporter('blobs', output);
    // 1000 blobs, ten a second: a tenth every 10 s.
    for (let done = 0; done <= 1000; done++) {
      progress.update({ total: 1000, done });
      advance(100);
    }
    progress.stop();
    assert.equal(lines[0], 'blobs: 0/1000, starting');
    assert.deepEqual(lines.slice(1, -1), [100, 200, 300, 400, 500, 600, 700, 800, 900]
      .map((done) => `blobs: ${String(done)}/1000 (${String(done / 10)}%)`));
    assert.equal(lines.at(-1), 'blobs: 1000/1000 in 100.1 s');
  });

  it('waits 5 seconds between lines, however fast the tenths pass', () => {
    const { output, lines, advance } = pipe();
    const progress = progressReporter('blobs', output);
    // 100 blobs, 40 a second: a tenth every 250 ms.
    for (let done = 0; done <= 100; done++) {
      progress.update({ total: 100, done });
      advance(25);
    }
    progress.stop();
    assert.deepEqual(lines, ['blobs: 0/100, starting', 'blobs: 100/100 in 2.5 s']);
    const slower = pipe();
    const reporter = progressReporter('blobs', slower.output);
    // 100 blobs, 10 a second: a tenth every second.
    for (let done = 0; done <= 100; done++) {
      reporter.update({ total: 100, done });
      slower.advance(100);
    }
    assert.deepEqual(slower.lines, ['blobs: 0/100, starting', 'blobs: 50/100 (50%)']);
  });

  it('still says something every minute when a tenth takes longer', () => {
    const { output, lines, advance } = pipe();
    const progress = progressReporter('records', output);
    progress.update({ total: 100, done: 0 });
    advance(61_000);
    progress.update({ total: 100, done: 1 });
    advance(1_000);
    progress.update({ total: 100, done: 2 });
    assert.deepEqual(lines, ['records: 0/100, starting', 'records: 1/100 (1%)']);
  });

  it('prints nothing when the command stopped before any progress', () => {
    const { output, lines } = pipe();
    progressReporter('images', output).stop();
    assert.deepEqual(lines, []);
  });
});

describe('imghost verify with its output piped', () => {
  let dataDir: string;
  before(async () => {
    dataDir = await tempDir('imghost-progress-');
    const repo = new SqliteRepo(join(dataDir, 'imghost.db'));
    const store = await new FsStore(join(dataDir, 'blobs')).init();
    const blob = async (): Promise<{ hash: string; bytes: number }> => {
      const bytes = randomBytes(2048);
      const hash = createHash('sha256').update(bytes).digest('hex');
      await store.put(hash, bytes);
      return { hash, bytes: bytes.length };
    };
    for (let i = 0; i < 14; i++) {
      const base = image();
      await ready(repo, { ...base, orig: { ...base.orig, ...await blob() }, thumb: { ...base.thumb, ...await blob() } });
    }
    await repo.close();
  });
  after(() => rm(dataDir, { recursive: true, force: true }));

  it('prints a start line and a closing line on stderr for 14 images, and its summary on stdout', async () => {
    const result = await runCli(['verify', `--data_dir=${dataDir}`]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, 'verify: 14 images checked, 0 damaged\n');
    assert.match(result.stderr, /^images: 0\/14, starting\nimages: 14\/14 in \d+\.\d s\n$/);
  });
});
