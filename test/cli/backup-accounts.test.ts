// A backup carries more than images: users and their keys, who owns what, unlisted and view-limited
// images with their blobs, and takedowns. A server on the restored data directory knows the same
// users, answers their keys, lists and refuses what the original did.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { addUser, bearer, type TestUser } from '../helpers/accounts.js';
import { runCli } from '../helpers/cli.js';
import { assertVerifyClean } from '../helpers/data-dir.js';
import { photo, solid } from '../helpers/images.js';
import { startTestServer, tempDir, type TestServer, type UploadedImage } from '../helpers/server.js';

/** Uploads `data` as `user` with form fields sent before the file, as the page sends them. */
async function uploadWith(server: TestServer, user: TestUser, data: Buffer, fields: Record<string, string>): Promise<UploadedImage> {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  form.append('file', new Blob([new Uint8Array(data)], { type: 'image/png' }), 'upload.png');
  const res = await server.fetch('/api/images', { method: 'POST', body: form, headers: bearer(user.key) });
  assert.equal(res.status, 201, await res.clone().text());
  return await res.json() as UploadedImage;
}

describe('a backup of a library with users, private images and takedowns, restored', () => {
  let dir: string;
  let restored: TestServer;
  let alice: TestUser;
  let listed: UploadedImage;
  let unlisted: UploadedImage;
  let limited: UploadedImage;
  let takenDown: UploadedImage;
  let takenDownBytes: Buffer;

  before(async () => {
    dir = await tempDir('imghost-backup-accounts-');
    const dataDir = join(dir, 'data');
    const source = await startTestServer({ data_dir: dataDir });
    try {
      alice = await addUser(source.server.library.repo.accounts, 'alice', { maxImages: 10 });
      listed = await uploadWith(source, alice, await solid(40, 30, '#205080', 'png'), {});
      unlisted = await uploadWith(source, alice, await solid(41, 30, '#802050', 'png'), { unlisted: '1' });
      limited = await uploadWith(source, alice, await solid(42, 30, '#508020', 'png'), { max_views: '2' });
      assert.equal((await source.fetch(`/imgs/${limited.id}/orig`)).status, 200, 'one of its two views spent before the backup');
      takenDownBytes = await photo(120, 80, 'png');
      takenDown = await source.uploadOk(takenDownBytes);
      const takedown = await runCli(['takedown', takenDown.id, '--reason=complaint', `--data_dir=${dataDir}`]);
      assert.equal(takedown.code, 0, takedown.stderr);
    } finally {
      await source.close();
    }
    const backup = await runCli(['backup', `--data_dir=${dataDir}`, `--to=${join(dir, 'backup')}`]);
    assert.equal(backup.code, 0, backup.stderr);
    const restore = await runCli(['restore', `--from=${join(dir, 'backup')}`, `--data_dir=${join(dir, 'restored')}`]);
    assert.equal(restore.code, 0, restore.stderr);
    restored = await startTestServer({ data_dir: join(dir, 'restored') });
  });
  after(async () => {
    await restored.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps the users and their keys: /api/me answers with the same usage and quota', async () => {
    const me = await (await restored.fetch('/api/me', { headers: bearer(alice.key) })).json() as
      { user: string; usage: { images: number }; quota: { images: number | null } };
    assert.deepEqual([me.user, me.usage.images, me.quota.images], ['alice', 3, 10]);
    const mine = await (await restored.fetch('/api/me/images', { headers: bearer(alice.key) })).json() as { images: { id: string }[] };
    assert.deepEqual(mine.images.map((i) => i.id).sort(), [listed.id, unlisted.id, limited.id].sort());
  });

  it('keeps the unlisted image out of the listing, with its blobs, and the view limit where it stood', async () => {
    const page = await (await restored.fetch('/api/images')).json() as { images: { id: string }[] };
    assert.deepEqual(page.images.map((i) => i.id), [listed.id]);
    assert.equal((await restored.fetch(`/imgs/${unlisted.id}/orig`)).status, 200);
    assert.equal((await restored.fetch(`/imgs/${limited.id}/orig`)).status, 200, 'the second of two views');
    assert.equal((await restored.fetch(`/imgs/${limited.id}/orig`)).status, 410, 'no third');
    await assertVerifyClean(join(dir, 'restored'));
  });

  it('keeps the takedown: the removed id answers 410 and the bytes are refused', async () => {
    assert.equal((await restored.fetch(`/imgs/${takenDown.id}/orig`)).status, 410);
    assert.equal((await restored.upload(takenDownBytes)).status, 451);
  });
});
