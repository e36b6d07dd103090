// `imghost users add|list|set|remove`, run as an operator runs them, next to a server on the same
// library: limits as given (0 or none lifts one), usage as the server counts it, and a removed
// user's images kept anonymous or deleted with their files.
import assert from 'node:assert/strict';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { removeImages } from '../../src/cli/users.js';
import type { ImageRecord } from '../../src/repo/index.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { solid } from '../helpers/images.js';
import { image } from '../repo/contract.js';
import { startTestServer, tempDir, type TestServer, type UploadedImage } from '../helpers/server.js';

const exists = (path: string): Promise<boolean> => access(path).then(() => true, () => false);
const blobPath = (dataDir: string, key: string) => join(dataDir, 'blobs', key.slice(0, 2), key.slice(2, 4), key);

describe('imghost users', () => {
  let dataDir: string;
  let s: TestServer;
  const cli = (...args: string[]): Promise<CliResult> => runCli([...args, `--data_dir=${dataDir}`]);
  const ok = async (...args: string[]): Promise<string> => {
    const result = await cli(...args);
    assert.equal(result.code, 0, result.stderr);
    return result.stdout;
  };
  const refused = async (pattern: RegExp, ...args: string[]): Promise<void> => {
    const result = await cli(...args);
    assert.equal(result.code, 2, result.stdout);
    assert.match(result.stderr, pattern);
  };
  /** The user's row of `users list`, split into its columns. */
  const row = async (name: string): Promise<string[]> => {
    const lines = (await ok('users', 'list')).trimEnd().split('\n');
    assert.match(lines[0] ?? '', /^NAME +QUOTA +USED +IMAGES +MAX IMAGES +KEYS$/);
    return (lines.find((line) => line.startsWith(`${name} `)) ?? '').split(/ {2,}/);
  };
  const uploadAs = async (name: string): Promise<UploadedImage> => {
    const key = (await ok('keys', 'add', name)).trim();
    return s.uploadOk(await solid(16, 16, `#${String(Math.floor(Math.random() * 899_999) + 100_000)}`), { headers: { authorization: `Bearer ${key}` } });
  };

  before(async () => {
    dataDir = await tempDir();
    s = await startTestServer({ data_dir: dataDir, uploads: 'users' });
  });
  after(() => s.close());

  it('adds a user with a quota in bytes or units and an image count, once per name', async () => {
    assert.match(await ok('users', 'add', 'alice', '--quota=1MiB', '--max_images=3'), /added user alice: quota 1 MiB, max images 3/);
    assert.deepEqual(await row('alice'), ['alice', '1 MiB', '0 B', '0', '3', '0']);
    assert.match(await ok('users', 'add', 'bob'), /added user bob: quota no limit, max images no limit/);
    await refused(/already a user named 'alice'/, 'users', 'add', 'alice');
    await refused(/'a b' is not a user name/, 'users', 'add', 'a b');
    await refused(/option '--quota': expected a positive number, 0 or none, got 'lots'/, 'users', 'add', 'carol', '--quota=lots');
    await refused(/users add NAME: which user name\?/, 'users', 'add');
    await refused(/users: expected add, list, set or remove, got 'delete'/, 'users', 'delete', 'alice');
  });

  it('lists each user\'s usage as the server counts it, and their keys', async () => {
    const uploaded = await uploadAs('alice');
    assert.deepEqual(await row('alice'), ['alice', '1 MiB', `${String(uploaded.bytes)} B`, '1', '3', '1']);
  });

  it('sets or lifts limits (0 or none: no limit), leaving the other as it was', async () => {
    assert.match(await ok('users', 'set', 'alice', '--quota=2MiB'), /user alice: quota 2 MiB, max images 3/);
    assert.match(await ok('users', 'set', 'alice', '--max_images=none'), /user alice: quota 2 MiB, max images no limit/);
    assert.match(await ok('users', 'set', 'alice', '--quota=0', '--max_images=7'), /user alice: quota no limit, max images 7/);
    assert.deepEqual((await row('alice')).slice(0, 5).filter((_, i) => i !== 2), ['alice', 'no limit', '1', '7']);
    await refused(/give --quota=BYTES and\/or --max_images=N/, 'users', 'set', 'alice');
    await refused(/no user named 'nobody'/, 'users', 'set', 'nobody', '--quota=1k');
  });

  it('removes a user and their keys, keeping their images as anonymous ones', async () => {
    await ok('users', 'add', 'dave');
    const uploaded = await uploadAs('dave');
    assert.match(await ok('users', 'remove', 'dave'), /removed user dave and their keys; their 1 images stay, anonymous/);
    assert.equal((await row('dave')).length, 1, 'dave is no longer listed');
    assert.equal((await s.server.library.get(uploaded.id)).owner, null);
    assert.equal((await s.fetch(uploaded.url)).status, 200);
    assert.equal((await ok('keys', 'list')).includes('dave'), false);
  });

  it('with --delete_images removes the user\'s images and their files too, and no one else\'s', async () => {
    await ok('users', 'add', 'erin');
    const [first, second] = [await uploadAs('erin'), await uploadAs('erin')];
    const others = await uploadAs('bob');
    assert.match(await ok('users', 'remove', 'erin', '--delete-images'), /removed user erin, their keys and 2 images/);
    for (const image of [first, second]) {
      assert.equal((await s.fetch(image.url)).status, 404);
      assert.equal(await exists(blobPath(dataDir, image.sha256)), false, 'the original is deleted');
    }
    assert.equal((await s.fetch(others.url)).status, 200);
    await refused(/no user named 'erin'/, 'users', 'remove', 'erin');
  });

  it('with --delete_images deletes their uploads still in flight too, and the upload then fails', async () => {
    await ok('users', 'add', 'frank');
    const stored = await uploadAs('frank');
    const frank = await s.server.library.repo.accounts.userByName('frank');
    const inFlight = image({ owner: frank?.id ?? null });
    await s.server.library.repo.insertPending(inFlight);
    assert.match(await ok('users', 'remove', 'frank', '--delete_images'), /removed user frank, their keys and 2 images/);
    assert.equal((await s.fetch(stored.url)).status, 404);
    assert.equal(await s.server.library.repo.isReferenced(inFlight.orig.hash), false, 'no record of the upload in flight is left');
    assert.equal(await s.server.library.repo.markReady(inFlight.id), false, 'the upload cannot complete');
  });

  it('skips, when deleting a user\'s images, one deleted meanwhile', async () => {
    const [gone, kept] = [await uploadAs('bob'), await uploadAs('bob')];
    const { library } = s.server;
    const records = [await library.get(gone.id), await library.get(kept.id)];
    await library.remove(records[0] as ImageRecord);
    assert.equal(await removeImages(library, records), 1);
    assert.equal((await s.fetch(kept.url)).status, 404);
  });
});
