// The `imghost` command itself: --help, and how it refuses bad options and commands.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { groups, options, type OptionDef } from '../../src/config/options.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { tempDir } from '../helpers/server.js';

interface HelpEntry { group: string; flag: string; text: string }

/** Splits --help output into option entries, joining each entry's wrapped lines; a blank line ends a group. */
function helpEntries(stdout: string): HelpEntry[] {
  const entries: HelpEntry[] = [];
  let group = '';
  for (const line of stdout.split('\n')) {
    const heading = /^(\w+) options:$/.exec(line);
    if (heading) { group = heading[1] ?? ''; continue; }
    if (line === '') { group = ''; continue; }
    const option = /^ {2}(--\S+)\s+(.*)$/.exec(line);
    if (option) { entries.push({ group, flag: option[1] ?? '', text: option[2] ?? '' }); continue; }
    const last = entries.at(-1);
    if (last && /^ {34}\S/.test(line)) last.text += ` ${line.trim()}`;
  }
  return entries;
}

/** The stderr of a refused invocation: exactly one line, no stack trace. */
function assertOneLineError(result: CliResult, message: RegExp): void {
  assert.equal(result.code, 2, `exit code; stderr: ${result.stderr}`);
  assert.equal(result.stdout, '');
  assert.ok(result.stderr.endsWith('\n'), 'the error line ends with a newline');
  const lines = result.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line on stderr, got:\n${result.stderr}`);
  assert.match(lines[0] ?? '', message);
  assert.doesNotMatch(result.stderr, /\n\s+at |Error:|\.ts:\d+/);
}

type Run = 'help' | 'unknownOption' | 'wrongType' | 'unknownCommand' | 'unsupportedDb' | 'portTaken';
let results: Record<Run, CliResult>;
let dir: string;
let taken: Server;
let takenPort: number;

// Every invocation is independent: run them all at once, to keep the file fast.
before(async () => {
  dir = await tempDir('imghost-main-');
  taken = createServer().listen(0, '127.0.0.1');
  await once(taken, 'listening');
  const address = taken.address();
  takenPort = typeof address === 'object' && address ? address.port : 0;
  const [help, unknownOption, wrongType, unknownCommand, unsupportedDb, portTaken] = await Promise.all([
    runCli(['--help']),
    runCli(['--no-such-option=1']),
    runCli(['--port=abc']),
    runCli(['frobnicate']),
    runCli(['gc', `--data_dir=${dir}`, '--db=mysql://db/imghost']),
    runCli(['serve', '--address=127.0.0.1', `--port=${String(takenPort)}`, `--data_dir=${dir}`]),
  ]);
  results = { help, unknownOption, wrongType, unknownCommand, unsupportedDb, portTaken };
});

after(async () => {
  await new Promise<void>((resolve) => { taken.close(() => { resolve(); }); });
  await rm(dir, { recursive: true, force: true });
});

describe('imghost --help', () => {
  let result: CliResult;
  let entries: HelpEntry[];
  before(() => {
    result = results.help;
    entries = helpEntries(result.stdout);
  });

  it('exits 0 and writes the help to stdout only', () => {
    assert.equal(result.code, 0);
    assert.equal(result.stderr, '');
    assert.match(result.stdout, /^Usage: imghost \[COMMAND\] \[OPTIONS\]\n/);
  });

  it('lists the commands serve and gc', () => {
    assert.match(result.stdout, /^ {2}serve +run the web server \(the default\)$/m);
    assert.match(result.stdout, /^ {2}gc +remove unfinished uploads and blobs no image refers to$/m);
  });

  it('lists every command it runs, with one line each', async () => {
    const main = await readFile(new URL('../../src/cli/main.ts', import.meta.url), 'utf8');
    const run = [...main.matchAll(/^ {2}'?([\w-]+)'?: async \(\) =>/gm)].map((m) => m[1]);
    assert.ok(run.includes('takedown') && run.includes('users') && run.includes('keys'), run.join(' '));
    for (const command of run) assert.match(result.stdout, new RegExp(`^ {2}${command ?? ''}\\b.* \\w`, 'm'), `${command ?? ''} is listed`);
    assert.match(result.stdout, /^ {2}takedown ID\|SHA256 +remove every image with those bytes/m);
  });

  it('prints the group headings in the order of the option table', () => {
    const headings = result.stdout.split('\n').filter((l) => / options:$/.test(l));
    assert.deepEqual(headings, groups.map((g) => `${g} options:`));
  });

  it('lists every option exactly once, under its own group', () => {
    const table = Object.entries(options) as [string, OptionDef][];
    const grouped = entries.filter((e) => e.group !== '');
    assert.deepEqual(grouped.map((e) => e.flag.replace(/=.*/, '')).sort(), table.map(([name]) => `--${name}`).sort());
    for (const [name, def] of table) {
      const entry = entries.find((e) => e.flag.replace(/=.*/, '') === `--${name}`);
      assert.equal(entry?.group, def.group, `--${name} is under ${def.group} options`);
      assert.ok(entry.text.startsWith(def.help), `--${name} shows its help line`);
    }
  });

  it('shows every option\'s default', () => {
    for (const [name, def] of Object.entries(options) as [string, OptionDef][]) {
      const entry = entries.find((e) => e.flag.replace(/=.*/, '') === `--${name}`);
      const shown = def.defaultText ?? (def.default === '' ? 'none' : String(def.default));
      assert.ok(entry?.text.includes(`(default ${shown}`), `--${name} shows (default ${shown}...): ${entry?.text ?? 'missing'}`);
    }
  });

  it('shows the log rotation options with their defaults', () => {
    const text = (flag: string) => entries.find((e) => e.flag === flag)?.text ?? '';
    assert.match(text('--log_file_max_size'), /\(default 100000000\)$/);
    assert.match(text('--log_file_num_backups'), /\(default 10\)$/);
    assert.match(text('--log_file_prefix=PATH'), /\(default none\)$/);
    assert.match(text('--log_to_stderr'), /\(default auto\)$/);
  });

  it('spells out derived defaults and the choices of an enum', () => {
    const text = (flag: string) => entries.find((e) => e.flag === flag)?.text ?? '';
    assert.match(text('--thumb_format'), /\(default webp \(one of jpeg, png, webp, avif\)\)$/);
    assert.match(text('--logging'), /\(default info \(one of debug, info, warning, error, none\)\)$/);
    assert.match(text('--db=URL'), /\(default sqlite:<data_dir>\/imghost\.db\)$/);
    assert.match(text('--thumb_concurrency'), /\(default number of CPUs\)$/);
    assert.match(text('--max_upload_size'), /\(default 33554432\)$/);
    assert.match(text('--port'), /\(default 8000\)$/);
  });

  it('lists --help itself, outside the option groups', () => {
    assert.deepEqual(entries.filter((e) => e.group === ''), [{ group: '', flag: '--help', text: 'show this help information' }]);
  });
});

describe('imghost refusals', () => {
  it('refuses an unknown option with exit 2 and one line naming it', () => {
    assertOneLineError(results.unknownOption, /^imghost: unrecognized option '--no[-_]such[-_]option' \(see --help\)$/);
  });

  it('refuses an option of the wrong type with exit 2 and one line naming it', () => {
    assertOneLineError(results.wrongType, /^imghost: option '--port': expected an integer, got 'abc'$/);
  });

  it('refuses an unknown command with exit 2 and one line naming it', () => {
    assertOneLineError(results.unknownCommand, /^imghost: unknown command 'frobnicate' \(see --help\)$/);
  });

  it('refuses an unsupported --db found when a command opens its stores, with exit 2 and one line', () => {
    assertOneLineError(results.unsupportedDb,
      /^imghost: option '--db': unsupported database 'mysql:\/\/db\/imghost' \(expected sqlite:PATH or postgres:\/\/USER:PASSWORD@HOST:PORT\/DBNAME\)$/);
  });

  it('exits 1 with one line naming the address when serve cannot listen', () => {
    const { code, stdout, stderr } = results.portTaken;
    assert.equal(code, 1, stderr);
    assert.equal(stdout, '');
    assert.equal(stderr, `imghost: listen EADDRINUSE: address already in use 127.0.0.1:${String(takenPort)}\n`);
  });
});
