// `imghost keys add|list|revoke`, run as an operator runs them, next to a server on the same
// library: a key is printed once and works at once, is stored only as its hash, is listed without
// itself, shows its last use, and stops working when revoked.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli, type CliResult } from '../helpers/cli.js';
import { solid } from '../helpers/images.js';
import { startTestServer, tempDir, type TestServer } from '../helpers/server.js';

const KEY = /^ihk_[A-Za-z0-9_-]{43}$/;

describe('imghost keys', () => {
  let dataDir: string;
  let s: TestServer;
  let image: Buffer;
  const cli = (...args: string[]): Promise<CliResult> => runCli([...args, `--data_dir=${dataDir}`]);
  const ok = async (...args: string[]): Promise<CliResult> => {
    const result = await cli(...args);
    assert.equal(result.code, 0, result.stderr);
    return result;
  };
  const refused = async (pattern: RegExp, ...args: string[]): Promise<void> => {
    const result = await cli(...args);
    assert.equal(result.code, 2, result.stdout);
    assert.match(result.stderr, pattern);
  };
  /** The rows of `keys list ARGS`, split into columns, header first. */
  const listed = async (...args: string[]): Promise<string[][]> =>
    (await ok('keys', 'list', ...args)).stdout.trimEnd().split('\n').map((line) => line.split(/ {2,}/));
  const upload = (key: string) => s.upload(image, { headers: { authorization: `Bearer ${key}` } });

  before(async () => {
    dataDir = await tempDir();
    s = await startTestServer({ data_dir: dataDir, uploads: 'users' });
    image = await solid(16, 16, '#336699');
    for (const name of ['alice', 'bob']) await ok('users', 'add', name);
  });
  after(() => s.close());

  let aliceKey: string, aliceKeyId: string;

  it('adds a key, printing it alone on stdout, once; it uploads at once and only its hash is stored', async () => {
    const added = await ok('keys', 'add', 'alice', '--label=laptop');
    aliceKey = added.stdout.trim();
    assert.match(aliceKey, KEY);
    aliceKeyId = /added key (\S+) for alice: it is shown only this once/.exec(added.stderr)?.[1] ?? '';
    assert.notEqual(aliceKeyId, '');
    assert.equal((await upload(aliceKey)).status, 201);
    const db = await readFile(join(dataDir, 'imghost.db'));
    const wal = await readFile(join(dataDir, 'imghost.db-wal')).catch(() => Buffer.alloc(0));
    for (const file of [db, wal]) assert.equal(file.includes(aliceKey), false, 'the key itself is never written');
    const hash = createHash('sha256').update(aliceKey).digest('hex');
    assert.ok(db.includes(hash) || wal.includes(hash), 'its SHA-256 is');
    const second = (await ok('keys', 'add', 'alice')).stdout.trim();
    assert.notEqual(second, aliceKey, 'each key is new');
  });

  it('lists keys with id, user, label, creation and last use, never the key; of one user when named', async () => {
    const bobKey = (await ok('keys', 'add', 'bob', '--label=ci')).stdout.trim();
    const all = await listed();
    assert.deepEqual(all[0], ['ID', 'USER', 'LABEL', 'CREATED', 'LAST USED']);
    assert.deepEqual(all.slice(1).map((row) => row[1]), ['alice', 'alice', 'bob']);
    const [used] = all.slice(1).filter((row) => row[0] === aliceKeyId);
    assert.equal(used?.[2], 'laptop');
    assert.match(used[3] ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.match(used[4] ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, 'the key was used to upload');
    assert.equal(all[2]?.at(-1), 'never', 'the second key was never used');
    const text = (await ok('keys', 'list')).stdout;
    for (const key of [aliceKey, bobKey]) assert.equal(text.includes(key), false);
    assert.deepEqual((await listed('bob')).slice(1).map((row) => [row[1], row[2]]), [['bob', 'ci']]);
    await refused(/no user named 'nobody'/, 'keys', 'list', 'nobody');
  });

  it('revokes a key by id: it stops working at once, the user\'s other keys keep working', async () => {
    const other = (await ok('keys', 'add', 'alice')).stdout.trim();
    assert.match((await ok('keys', 'revoke', aliceKeyId)).stdout, new RegExp(`revoked key ${aliceKeyId}`));
    assert.equal((await upload(aliceKey)).status, 401);
    assert.equal((await upload(other)).status, 201);
    assert.equal((await listed()).some((row) => row[0] === aliceKeyId), false);
    await refused(/there is no key/, 'keys', 'revoke', aliceKeyId);
  });

  it('refuses a key for no user, and unknown subcommands', async () => {
    await refused(/no user named 'nobody'/, 'keys', 'add', 'nobody');
    await refused(/keys: expected add, list or revoke, got 'show'/, 'keys', 'show');
  });
});
