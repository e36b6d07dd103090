// Checks on an embedded data directory after something went wrong (a crash, a full disk): what
// `imghost verify` says of it, and whether anything is left that nothing refers to.
import assert from 'node:assert/strict';
import { readdir, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteRepo } from '../../src/repo/sqlite.js';
import { FsStore } from '../../src/store/fs.js';
import { runCli } from './cli.js';

/** `imghost verify` on the directory exits 0 and finds every image whole. */
export async function assertVerifyClean(dataDir: string): Promise<void> {
  const verify = await runCli(['verify', `--data_dir=${dataDir}`]);
  assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  assert.match(verify.stdout, /^verify: \d+ images checked, 0 damaged\n$/);
}

/** Ids of unfinished uploads, keys of blobs no record refers to, paths of temporary files; each sorted. */
export interface Leftovers { unfinished: string[]; orphans: string[]; temp: string[] }

/** What is in the directory that no visible image needs. */
export async function leftovers(dataDir: string): Promise<Leftovers> {
  const repo = new SqliteRepo(join(dataDir, 'imghost.db'));
  try {
    const store = new FsStore(join(dataDir, 'blobs'));
    const referenced = await repo.referencedHashes();
    const orphans: string[] = [];
    for await (const blob of store.list()) if (!referenced.has(blob.key)) orphans.push(blob.key);
    const temp = [
      ...(await readdir(join(dataDir, 'tmp')).catch(() => [])).map((name) => join(dataDir, 'tmp', name)),
      ...(await readdir(join(dataDir, 'blobs', '.tmp')).catch(() => [])).map((name) => join(dataDir, 'blobs', '.tmp', name)),
    ];
    const unfinished = (await repo.stalePending(new Date(8.64e15))).map((record) => record.id);
    return { unfinished: unfinished.sort(), orphans: orphans.sort(), temp: temp.sort() };
  } finally {
    await repo.close();
  }
}

/**
 * Makes the directory as it will be once a lease has passed since the processes using it died:
 * no pending record's lease runs any more, and no spooled or temporary file was touched since.
 */
export async function outliveLeases(dataDir: string): Promise<void> {
  const db = new Database(join(dataDir, 'imghost.db'));
  try {
    db.prepare('UPDATE images SET lease_until = 0 WHERE ready = 0').run();
  } finally {
    db.close();
  }
  const longAgo = new Date(Date.now() - 3600_000);
  const { temp } = await leftovers(dataDir);
  for (const path of temp) await utimes(path, longAgo, longAgo).catch(() => undefined);
}
