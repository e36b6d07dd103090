// Commands that read a library (verify, gc, backup, restore, the sources of migrate-*) refuse one
// that is not there, with one line and a non-zero exit, and create nothing: a mistyped path must
// never pass for an empty library. Destinations are made only once the source is known usable.
import assert from 'node:assert/strict';
import { access, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SqliteRepo } from '../../src/repo/sqlite.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { freePort } from '../helpers/process.js';
import { tempDir } from '../helpers/server.js';

const exists = (path: string): Promise<boolean> => access(path).then(() => true, () => false);

/** Refused with exit code 2, one line on stderr matching `message`, nothing on stdout. */
function assertRefused(result: CliResult, message: RegExp): void {
  assert.equal(result.code, 2, `exit code; stderr: ${result.stderr}`);
  assert.equal(result.stdout, '');
  const lines = result.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line on stderr, got:\n${result.stderr}`);
  assert.match(lines[0] ?? '', message);
}

async function assertNotCreated(...paths: string[]): Promise<void> {
  for (const path of paths) assert.equal(await exists(path), false, `${path} was created`);
}

describe('commands that read a library refuse one that is not there', { concurrency: true }, () => {
  let dir: string;
  let missing: string;
  /** A directory holding a database and no blob store. */
  let dbOnly: string;

  before(async () => {
    dir = await tempDir('imghost-sources-');
    missing = join(dir, 'typo');
    dbOnly = join(dir, 'db-only');
    await new SqliteRepo(join(dbOnly, 'imghost.db')).close();
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('verify refuses a data directory that does not exist, instead of checking an empty library', async () => {
    const result = await runCli(['verify', `--data_dir=${missing}`]);
    assertRefused(result, new RegExp(`^imghost: there is no library database at ${join(missing, 'imghost.db')}$`));
    await assertNotCreated(missing);
  });

  it('verify refuses a library whose blob store is missing, and does not make one', async () => {
    const result = await runCli(['verify', `--data_dir=${dbOnly}`]);
    assertRefused(result, new RegExp(`^imghost: there is no blob store at ${join(dbOnly, 'blobs')}$`));
    await assertNotCreated(join(dbOnly, 'blobs'));
  });

  it('verify refuses a directory given as the database', async () => {
    await mkdir(join(dir, 'a-directory'));
    const result = await runCli(['verify', `--data_dir=${dir}`, `--db=sqlite:${join(dir, 'a-directory')}`]);
    assertRefused(result, /^imghost: there is no library database at .*a-directory: it is not a file$/);
  });

  it('gc refuses a data directory that does not exist', async () => {
    const result = await runCli(['gc', `--data_dir=${missing}`]);
    assertRefused(result, /^imghost: there is no library database at /);
    await assertNotCreated(missing);
  });

  it('backup refuses a missing library and creates no backup directory', async () => {
    const to = join(dir, 'backup');
    const result = await runCli(['backup', `--data_dir=${missing}`, `--to=${to}`]);
    assertRefused(result, /^imghost: there is no library database at /);
    await assertNotCreated(missing, to);
  });

  it('restore refuses a missing backup and leaves the data directory alone', async () => {
    const target = join(dir, 'restored');
    const result = await runCli(['restore', `--from=${missing}`, `--data_dir=${target}`]);
    assertRefused(result, /is not an imghost backup: it has no imghost\.db$/);
    await assertNotCreated(missing, target);
  });

  it('migrate-db refuses a source database that does not exist, before making the destination', async () => {
    const to = join(dir, 'dest-db', 'imghost.db');
    const result = await runCli(['migrate-db', `--from=sqlite:${join(missing, 'x.db')}`, `--to=sqlite:${to}`]);
    assertRefused(result, new RegExp(`^imghost: there is no library database at ${join(missing, 'x.db')}$`));
    await assertNotCreated(missing, join(dir, 'dest-db'));
  });

  it('migrate-store refuses a source directory that does not exist, before making the destination', async () => {
    const to = join(dir, 'dest-store');
    const result = await runCli(['migrate-store', `--from=${missing}`, `--to=${to}`]);
    assertRefused(result, new RegExp(`^imghost: there is no blob store at ${missing}$`));
    await assertNotCreated(missing, to);
  });

  it('migrate-store checks an S3 source before making the destination directory', async () => {
    const to = join(dir, 'dest-from-s3');
    const nobody = `http://127.0.0.1:${String(await freePort())}`;
    const result = await runCli(['migrate-store', '--from=s3://no-bucket/images', `--to=${to}`, `--s3_endpoint=${nobody}`,
      '--s3_force_path_style', '--s3_access_key_id=key', '--s3_secret_access_key=secret', '--store_timeout=5']);
    assert.notEqual(result.code, 0);
    assert.equal(result.stdout, '');
    // Node 20 also gets the AWS SDK's own multi-line notice about its future Node requirement.
    assert.match(result.stderr.trimEnd().split('\n').at(-1) ?? '', /^imghost: the object store is unavailable: HeadBucket s3:\/\/no-bucket/);
    await assertNotCreated(to);
  });
});
