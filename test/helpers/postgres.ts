// A real, private PostgreSQL server for one test file: Debian's binaries, initdb into a fresh
// temporary directory, a free loopback port. Each file starts its own, so files running in
// parallel never share a server. Installed by scripts/test-deps.sh.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFile, chown, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from './process.js';

const run = promisify(execFile);

export interface TestPostgres {
  /** The `imghost` database, as postgres://postgres@127.0.0.1:PORT/imghost. */
  url: string;
  port: number;
  /** A new, empty database on this server; its URL. */
  createDatabase(): Promise<string>;
  /** Runs one statement as the superuser, on `database` (default: the server's `postgres`). */
  query<R extends pg.QueryResultRow>(text: string, values?: unknown[], database?: string): Promise<R[]>;
  /** Stops the server as an operator would (`pg_ctl stop -m fast`), keeping its data and port. */
  halt(): Promise<void>;
  /** Starts it again after halt(), on the same directory and port. */
  resume(): Promise<void>;
  /** Suspends (SIGSTOP) the server and every backend: connections hang instead of failing. */
  freeze(): Promise<void>;
  /** Resumes what freeze() suspended. */
  thaw(): Promise<void>;
  /** Stops the server and removes its directory. */
  stop(): Promise<void>;
}

async function binDir(): Promise<string> {
  const root = '/usr/lib/postgresql';
  const versions = await readdir(root).catch(() => [] as string[]);
  const newest = versions.filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a))[0];
  if (newest === undefined) throw new Error(`no PostgreSQL in ${root}: run scripts/test-deps.sh (as root)`);
  return join(root, newest, 'bin');
}

/** The server runs as `postgres`: it refuses to run as root, which the tests are. */
function asPostgres(command: string, args: readonly string[]): Promise<{ stdout: string; stderr: string }> {
  return userInfo().uid === 0 ? run('runuser', ['-u', 'postgres', '--', command, ...args]) : run(command, args);
}

export async function startPostgres(): Promise<TestPostgres> {
  const bin = await binDir();
  const dir = await mkdtemp(join(tmpdir(), 'imghost-pg-'));
  const data = join(dir, 'data');
  const log = join(dir, 'server.log');
  if (userInfo().uid === 0) {
    const id = async (flag: '-u' | '-g'): Promise<number> => {
      const { stdout } = await run('id', [flag, 'postgres']).catch(() => {
        throw new Error('no postgres user: run scripts/test-deps.sh (as root)');
      });
      return Number(stdout.trim());
    };
    await chown(dir, await id('-u'), await id('-g'));
  }
  const port = await freePort();
  const pgCtl = join(bin, 'pg_ctl');
  const start = async (): Promise<void> => {
    try {
      await asPostgres(pgCtl, ['start', '-w', '-t', '30', '-D', data, '-l', log]);
    } catch (err) {
      const serverLog = await readFile(log, 'utf8').catch(() => '');
      throw new Error(`PostgreSQL did not start: ${String(err)}\n${serverLog}`, { cause: err });
    }
  };

  /** The postmaster and its children (backends and auxiliary processes). */
  const processes = async (): Promise<number[]> => {
    const postmaster = Number((await readFile(join(data, 'postmaster.pid'), 'utf8')).split('\n', 1)[0]);
    const children: number[] = [];
    // From /proc rather than pgrep, which minimal images lack.
    for (const entry of await readdir('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
      // Fields after the parenthesised command name: state, then the parent's pid.
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === postmaster) children.push(Number(entry));
    }
    return [postmaster, ...children];
  };
  const signal = async (sig: NodeJS.Signals): Promise<void> => {
    for (const pid of await processes()) process.kill(pid, sig);
  };

  // A frozen server cannot stop; a stopped one makes pg_ctl fail, which is fine.
  const teardown = async (): Promise<void> => {
    await signal('SIGCONT').catch(() => undefined);
    await asPostgres(pgCtl, ['stop', '-w', '-m', 'immediate', '-D', data]).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  };

  const urlFor = (database: string) => `postgres://postgres@127.0.0.1:${String(port)}/${database}`;
  const query = async <R extends pg.QueryResultRow>(text: string, values: unknown[] = [], database = 'postgres'): Promise<R[]> => {
    const client = new pg.Client({ connectionString: urlFor(database) });
    await client.connect();
    try {
      return (await client.query<R>(text, values)).rows;
    } finally {
      await client.end();
    }
  };

  try {
    await asPostgres(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync', '--no-instructions']);
    // Durability is pointless for a throw-away cluster; these make it start and write faster.
    await appendFile(join(data, 'postgresql.conf'), [
      `port = ${String(port)}`,
      "listen_addresses = '127.0.0.1'",
      `unix_socket_directories = '${dir}'`,
      'fsync = off', 'synchronous_commit = off', 'full_page_writes = off',
      'max_connections = 50', 'shared_buffers = 16MB',
      '',
    ].join('\n'));
    await start();
    await query('CREATE DATABASE imghost');
  } catch (err) {
    await teardown();
    throw err;
  }

  let stopped = false;
  return {
    url: urlFor('imghost'),
    port,
    async createDatabase() {
      const name = `t_${randomBytes(6).toString('hex')}`;
      await query(`CREATE DATABASE ${name}`);
      return urlFor(name);
    },
    query,
    async halt() { await asPostgres(pgCtl, ['stop', '-w', '-m', 'fast', '-D', data]); },
    resume: start,
    freeze: () => signal('SIGSTOP'),
    thaw: () => signal('SIGCONT'),
    async stop() {
      if (stopped) return;
      stopped = true;
      await teardown();
    },
  };
}
