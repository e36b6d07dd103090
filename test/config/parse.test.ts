// parseInvocation: the command line, IMGHOST_* variables and a JSON config file become one Config.
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { defaults } from '../../src/config/options.js';
import { parseInvocation } from '../../src/config/parse.js';
import { ConfigError } from '../../src/errors.js';
import { tempDir } from '../helpers/server.js';

/** Parses with an empty environment, so the test runner's own variables cannot leak in. */
const parse = (argv: readonly string[], env: NodeJS.ProcessEnv = {}) => parseInvocation(argv, env);

/** Asserts that parsing fails with a ConfigError whose message matches `message`. */
function assertRefused(argv: readonly string[], message: RegExp, env: NodeJS.ProcessEnv = {}): void {
  assert.throws(() => parse(argv, env), (err: unknown) => {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    assert.match(err.message, message);
    return true;
  });
}

describe('parseInvocation defaults', () => {
  it('runs serve with every default when given nothing', () => {
    const inv = parse([]);
    assert.equal(inv.command, 'serve');
    assert.deepEqual(inv.args, []);
    assert.equal(inv.help, false);
    assert.deepEqual(inv.config, defaults());
  });

  it('has the documented default values', () => {
    const { config } = parse([]);
    assert.equal(config.port, 8000);
    assert.equal(config.address, '0.0.0.0');
    assert.equal(config.debug, false);
    assert.equal(config.data_dir, './data');
    assert.equal(config.max_upload_size, 32 * 1024 * 1024);
    assert.equal(config.thumb_size, 128);
    assert.equal(config.thumb_format, 'webp');
    assert.equal(config.thumb_concurrency, availableParallelism());
    assert.equal(config.xsrf_cookies, true);
    assert.equal(config.gc_grace, 600);
    assert.equal(config.logging, 'info');
    assert.equal(config.log_to_stderr, null);
    assert.equal(config.log_file_prefix, '');
    assert.equal(config.log_file_max_size, 100_000_000);
    assert.equal(config.log_file_num_backups, 10);
  });

  it('returns a fresh config each time, so one caller cannot change another\'s', () => {
    const a = parse([]).config;
    a.port = 1;
    assert.equal(parse([]).config.port, 8000);
  });
});

describe('parseInvocation option syntax', () => {
  it('takes a value after = or as the next argument', () => {
    assert.equal(parse(['--port=8001']).config.port, 8001);
    assert.equal(parse(['--port', '8002']).config.port, 8002);
    assert.equal(parse(['--address', '127.0.0.1', '--data_dir', '/srv/images']).config.data_dir, '/srv/images');
  });

  it('keeps everything after the first = as the value', () => {
    assert.equal(parse(['--cookie_secret=a=b=c']).config.cookie_secret, 'a=b=c');
  });

  it('accepts an empty value after =', () => {
    assert.equal(parse(['--data_dir=/x', '--cookie_secret=']).config.cookie_secret, '');
  });

  it('refuses a valued option with nothing after it', () => {
    assertRefused(['--port'], /option '--port' needs a value/);
    assertRefused(['--port', '--debug'], /option '--port' needs a value/);
  });

  it('sets a bool flag given alone to true, without eating the next argument', () => {
    const inv = parse(['--debug', 'gc']);
    assert.equal(inv.config.debug, true);
    assert.equal(inv.command, 'gc');
  });

  it('reads true/false words for bool options', () => {
    assert.equal(parse(['--debug=false']).config.debug, false);
    assert.equal(parse(['--debug=true']).config.debug, true);
    assert.equal(parse(['--xsrf_cookies=no']).config.xsrf_cookies, false);
    assert.equal(parse(['--xsrf_cookies=off']).config.xsrf_cookies, false);
    assert.equal(parse(['--xsrf_cookies=0']).config.xsrf_cookies, false);
    assert.equal(parse(['--debug=yes']).config.debug, true);
    assert.equal(parse(['--debug=on']).config.debug, true);
    assert.equal(parse(['--debug=1']).config.debug, true);
    assert.equal(parse(['--debug=TRUE']).config.debug, true);
  });

  it('reads auto, true and false for an autobool option', () => {
    assert.equal(parse(['--log_to_stderr']).config.log_to_stderr, true);
    assert.equal(parse(['--log_to_stderr=false']).config.log_to_stderr, false);
    assert.equal(parse(['--log_to_stderr=auto']).config.log_to_stderr, null);
  });

  it('refuses a bool value that is not a truth word', () => {
    assertRefused(['--debug=maybe'], /option '--debug': expected true or false, got 'maybe'/);
  });

  it('treats dashes and underscores in names the same', () => {
    assert.equal(parse(['--max-upload-size=1MiB']).config.max_upload_size, 1_048_576);
    assert.equal(parse(['--max_upload_size=1MiB']).config.max_upload_size, 1_048_576);
    assert.equal(parse(['--xsrf-cookies=false']).config.xsrf_cookies, false);
    assert.equal(parse(['--log-file-num-backups', '3']).config.log_file_num_backups, 3);
  });

  it('lets the later of two settings of one option win', () => {
    assert.equal(parse(['--port=1', '--port=2']).config.port, 2);
    assert.equal(parse(['--thumb-size=10', '--thumb_size=20']).config.thumb_size, 20);
  });
});

describe('parseInvocation value types', () => {
  const sizes: [string, number][] = [
    ['1048576', 1_048_576],
    ['500k', 500_000],
    ['500kb', 500_000],
    ['2KiB', 2048],
    ['32MiB', 32 * 1024 * 1024],
    ['3m', 3_000_000],
    ['1MB', 1_000_000],
    ['1GiB', 1024 ** 3],
    ['2g', 2_000_000_000],
    ['1.5k', 1500],
    ['64b', 64],
    ['10 MiB', 10 * 1024 * 1024],
  ];
  for (const [text, bytes] of sizes) {
    it(`reads the size ${text} as ${String(bytes)} bytes`, () => {
      assert.equal(parse([`--max_upload_size=${text}`]).config.max_upload_size, bytes);
    });
  }

  for (const bad of ['0', 'abc', '12parsecs', '-5k', 'k', '']) {
    it(`refuses the size '${bad}', naming the option`, () => {
      assertRefused([`--log_file_max_size=${bad}`], /^option '--log_file_max_size': expected a size in bytes/);
    });
  }

  it('accepts each listed thumbnail format and refuses others, listing the choices', () => {
    for (const format of ['jpeg', 'png', 'webp', 'avif']) {
      assert.equal(parse([`--thumb_format=${format}`]).config.thumb_format, format);
    }
    assertRefused(['--thumb_format=gif'], /^option '--thumb_format': expected one of jpeg, png, webp, avif, got 'gif'$/);
  });

  it('accepts each log level and refuses others', () => {
    for (const level of ['debug', 'info', 'warning', 'error', 'none']) {
      assert.equal(parse([`--logging=${level}`]).config.logging, level);
    }
    assertRefused(['--logging=verbose'], /option '--logging': expected one of debug, info, warning, error, none/);
  });

  it('refuses an integer below the option\'s minimum', () => {
    assertRefused(['--log_file_num_backups=0'], /^option '--log_file_num_backups': expected an integer >= 1, got '0'$/);
    assertRefused(['--thumb_size=0'], /option '--thumb_size': expected an integer >= 1/);
    assertRefused(['--port=-1'], /option '--port': expected an integer >= 0/);
    assert.equal(parse(['--port=0']).config.port, 0);
    assert.equal(parse(['--log_file_num_backups=1']).config.log_file_num_backups, 1);
  });

  it('refuses what is not an integer for an int option, naming the option', () => {
    assertRefused(['--port=abc'], /^option '--port': expected an integer, got 'abc'$/);
    assertRefused(['--port=80.5'], /option '--port': expected an integer/);
    assertRefused(['--gc_grace=10s'], /option '--gc_grace': expected an integer/);
    assertRefused(['--port=99999999999999999999'], /option '--port': expected an integer/);
  });

  it('trims spaces around a value', () => {
    assert.equal(parse(['--port= 8123 ']).config.port, 8123);
  });
});

describe('parseInvocation unknown options', () => {
  it('refuses an unknown option with a ConfigError naming it', () => {
    assertRefused(['--colour=blue'], /^unrecognized option '--colour' \(see --help\)$/);
  });

  it('names an unknown option written with dashes', () => {
    assertRefused(['--no-such-thing'], /^unrecognized option '--no[-_]such[-_]thing'/);
  });

  it('refuses an unknown option even after a valid one', () => {
    assertRefused(['--port=1', '--bogus'], /unrecognized option '--bogus'/);
  });
});

describe('parseInvocation commands and --help', () => {
  it('refuses an option of one command given to another, naming both', () => {
    assertRefused(['serve', '--reason=spam'], /^option '--reason' is for takedown only, not serve \(see --help\)$/);
    assertRefused(['--undo'], /^option '--undo' is for takedown only, not serve/);
    assertRefused(['keys', 'add', 'alice', '--quota=1GiB'], /^option '--quota' is for users only, not keys/);
    assertRefused(['gc', '--repair'], /^option '--repair' is for verify only, not gc/);
    assert.equal(parse(['takedown', 'abc', '--reason=spam', '--undo']).config.reason, 'spam');
    assert.equal(parse(['users', 'add', 'alice', '--quota=1GiB', '--max_images=3']).config.max_images, '3');
    assert.equal(parse(['verify', '--repair']).config.repair, true);
    assert.equal(parse(['serve', '--help', '--label=x']).help, true, 'help is shown whatever else is given');
    assert.equal(parse(['serve'], { IMGHOST_REASON: 'shared' }).config.reason, 'shared', 'the environment may set it for every command');
  });

  it('takes the first positional argument as the command and the rest as its arguments', () => {
    const inv = parse(['gc', '--gc_grace=5', 'extra']);
    assert.equal(inv.command, 'gc');
    assert.deepEqual(inv.args, ['extra']);
    assert.equal(inv.config.gc_grace, 5);
  });

  it('accepts options before the command', () => {
    const inv = parse(['--data_dir=/d', 'gc']);
    assert.equal(inv.command, 'gc');
    assert.equal(inv.config.data_dir, '/d');
  });

  it('defaults the command to serve', () => {
    assert.equal(parse(['--port=1']).command, 'serve');
  });

  it('passes an unknown command through for the caller to refuse', () => {
    assert.equal(parse(['frobnicate']).command, 'frobnicate');
  });

  it('takes everything after -- as positional, even if it looks like an option', () => {
    const inv = parse(['--', 'gc', '--port=abc']);
    assert.equal(inv.command, 'gc');
    assert.deepEqual(inv.args, ['--port=abc']);
    assert.equal(inv.config.port, 8000);
  });

  it('sets help for --help without taking it as an option', () => {
    const inv = parse(['--help']);
    assert.equal(inv.help, true);
    assert.equal(inv.command, 'serve');
    assert.equal(parse(['gc', '--help']).help, true);
  });
});

describe('parseInvocation precedence', () => {
  let dir: string;
  before(async () => { dir = await tempDir('imghost-parse-'); });
  after(() => rm(dir, { recursive: true, force: true }));

  async function configFile(name: string, content: unknown): Promise<string> {
    const path = join(dir, name);
    await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content));
    return path;
  }

  it('reads options from IMGHOST_* variables', () => {
    const { config } = parse([], { IMGHOST_PORT: '9001', IMGHOST_DEBUG: 'true', IMGHOST_MAX_UPLOAD_SIZE: '2MiB' });
    assert.equal(config.port, 9001);
    assert.equal(config.debug, true);
    assert.equal(config.max_upload_size, 2 * 1024 * 1024);
  });

  it('prefers the command line to the environment', () => {
    assert.equal(parse(['--port=9002'], { IMGHOST_PORT: '9001' }).config.port, 9002);
  });

  it('names the variable when an environment value is wrong', () => {
    assertRefused([], /^environment variable IMGHOST_PORT: expected an integer, got 'abc'$/, { IMGHOST_PORT: 'abc' });
  });

  it('reads a JSON config file given with --config, in any value type and with dash keys', async () => {
    const path = await configFile('basic.json', {
      port: 7000, 'data-dir': '/from/file', 'max-upload-size': '1MiB', debug: true, thumb_format: 'webp',
      log_file_max_size: 4096,
    });
    const { config } = parse([`--config=${path}`]);
    assert.equal(config.config, path);
    assert.equal(config.port, 7000);
    assert.equal(config.data_dir, '/from/file');
    assert.equal(config.max_upload_size, 1_048_576);
    assert.equal(config.debug, true);
    assert.equal(config.thumb_format, 'webp');
    assert.equal(config.log_file_max_size, 4096);
    assert.equal(config.address, '0.0.0.0');
  });

  it('applies command line > environment > config file > default, option by option', async () => {
    const path = await configFile('layers.json', { port: 7000, address: '10.0.0.1', thumb_size: 64 });
    const { config } = parse([`--config=${path}`, '--port=9000'], { IMGHOST_PORT: '8500', IMGHOST_ADDRESS: '10.0.0.2' });
    assert.equal(config.port, 9000, 'command line beats environment and file');
    assert.equal(config.address, '10.0.0.2', 'environment beats file');
    assert.equal(config.thumb_size, 64, 'file beats default');
    assert.equal(config.gc_grace, 600, 'default when nothing sets it');
  });

  it('reads the config file named by IMGHOST_CONFIG, and --config overrides it', async () => {
    const a = await configFile('a.json', { port: 1111 });
    const b = await configFile('b.json', { port: 2222 });
    assert.equal(parse([], { IMGHOST_CONFIG: a }).config.port, 1111);
    assert.equal(parse([`--config=${b}`], { IMGHOST_CONFIG: a }).config.port, 2222);
  });

  it('refuses an unknown key in the config file, naming key and file', async () => {
    const path = await configFile('unknown.json', { port: 1, colour: 'blue' });
    assertRefused([`--config=${path}`], new RegExp(`^unrecognized option 'colour' in config file ${escape(path)}$`));
  });

  it('refuses a config key naming another config file', async () => {
    const path = await configFile('nested.json', { config: '/other.json' });
    assertRefused([`--config=${path}`], /unrecognized option 'config' in config file/);
  });

  it('names the key and the file when a config file value has the wrong type', async () => {
    const path = await configFile('wrongtype.json', { port: 'eighty' });
    assertRefused([`--config=${path}`], new RegExp(`^option 'port' in config file ${escape(path)}: expected an integer, got 'eighty'$`));
    const strPath = await configFile('wrongstr.json', { data_dir: 5 });
    assertRefused([`--config=${strPath}`], /option 'data_dir' in config file .*: expected a string, got '5'/);
  });

  it('refuses a config file that is missing, not JSON, or not an object', async () => {
    assertRefused([`--config=${join(dir, 'missing.json')}`], /^cannot read config file .*missing\.json: /);
    assertRefused([`--config=${await configFile('broken.json', '{"port": ')}`], /^cannot read config file .*broken\.json: /);
    assertRefused([`--config=${await configFile('array.json', [1, 2])}`], /config file .*array\.json must hold a JSON object/);
    assertRefused([`--config=${await configFile('null.json', 'null')}`], /config file .*null\.json must hold a JSON object/);
  });

  it('does not read a config file when --config is empty', () => {
    assert.deepEqual(parse(['--config=']).config, { ...defaults(), config: '' });
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
