// Quotas on the embedded library: an upload that fits exactly is taken, one byte over is 413 with
// the usage in words and leaves nothing behind (no record, no blob, no spooled file); so is one
// image past the count; and concurrent uploads of one user never go past the quota together.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Limits } from '../../src/repo/accounts.js';
import { addUser, bearer, type TestUser } from '../helpers/accounts.js';
import { leftovers } from '../helpers/data-dir.js';
import { photo } from '../helpers/images.js';
import { startTestServer, type TestServer, type UploadedImage } from '../helpers/server.js';

interface ErrorJson { error: string; message: string }

/** The user's images, as their quota counts them. */
const usage = (s: TestServer, user: TestUser) => s.server.library.repo.accounts.usage(user.id);

describe('quotas', () => {
  let s: TestServer;
  let image: Buffer;
  /** What one upload of `image` stores: the quota counts the stored original. */
  let size: number;
  before(async () => {
    // No per-client bound and room to receive all 20 at once: only the quota may refuse them.
    s = await startTestServer({ max_uploads_per_client: 0, max_receiving: 20 });
    image = await photo(64, 48);
    const probe = await addUser(s.server.library.repo.accounts, 'probe');
    size = (await s.uploadOk(image, { headers: bearer(probe.key) })).bytes;
  });
  after(() => s.close());

  it('takes an upload that reaches the byte quota exactly; one byte over is 413 with the usage in words, and stores nothing', async () => {
    const alice = await addUser(s.server.library.repo.accounts, 'alice', { quotaBytes: 3 * size });
    for (let i = 0; i < 3; i++) await s.uploadOk(image, { headers: bearer(alice.key) });
    assert.deepEqual(await usage(s, alice), { bytes: 3 * size, images: 3 }, 'the same bytes count again for each image');
    await s.server.library.repo.accounts.setLimits(alice.id, { quotaBytes: 4 * size - 1 });
    const res = await s.upload(image, { headers: bearer(alice.key) });
    const body = await res.json() as ErrorJson;
    assert.equal(res.status, 413);
    assert.equal(body.error, 'QUOTA_EXCEEDED');
    assert.match(body.message, /^this upload would go over your quota: \S+ KiB of \S+ KiB used; this file is \S+ KiB$/);
    assert.deepEqual(await usage(s, alice), { bytes: 3 * size, images: 3 });
    assert.deepEqual(await leftovers(s.dataDir), { unfinished: [], orphans: [], temp: [] });
  });

  it('refuses the image past the count with 413, and stores nothing', async () => {
    const bob = await addUser(s.server.library.repo.accounts, 'bob', { maxImages: 2 });
    for (let i = 0; i < 2; i++) await s.uploadOk(await photo(40 + i, 30), { headers: bearer(bob.key) });
    const extra = await photo(50, 30);
    const res = await s.upload(extra, { headers: bearer(bob.key) });
    assert.equal(res.status, 413);
    assert.match((await res.json() as ErrorJson).message, /2 of 2 images stored/);
    assert.equal((await usage(s, bob)).images, 2);
    assert.deepEqual(await leftovers(s.dataDir), { unfinished: [], orphans: [], temp: [] }, 'not even the new blob of a refused new image');
  });

  it('refuses a user already at a limit before receiving the upload\'s body', async () => {
    const full = async (limits: Partial<Limits>, pattern: RegExp): Promise<void> => {
      const user = await addUser(s.server.library.repo.accounts, `full-${String(Math.random()).slice(2, 8)}`, limits);
      await s.uploadOk(image, { headers: bearer(user.key) });
      // A body that never ends: only an answer given before reading it arrives.
      const endless = new ReadableStream<Uint8Array>({ start(controller) { controller.enqueue(new Uint8Array(image.subarray(0, 100))); } });
      const res = await s.fetch('/api/images', {
        method: 'POST', body: endless, duplex: 'half', signal: AbortSignal.timeout(5000),
        headers: { ...bearer(user.key), 'content-type': 'image/jpeg' },
      } as RequestInit);
      assert.equal(res.status, 413);
      const body = await res.json() as ErrorJson;
      assert.equal(body.error, 'QUOTA_EXCEEDED');
      assert.match(body.message, pattern);
    };
    await full({ maxImages: 1 }, /^this upload would go over your quota: 1 of 1 images stored$/);
    await full({ quotaBytes: size }, /^this upload would go over your quota: \S+ KiB of \S+ KiB used$/);
  });

  it('lifts the refusal once the owner deletes an image', async () => {
    const carol = await addUser(s.server.library.repo.accounts, 'carol', { maxImages: 1 });
    const first = await s.uploadOk(image, { headers: bearer(carol.key) });
    assert.equal((await s.upload(image, { headers: bearer(carol.key) })).status, 413);
    assert.equal((await s.fetch(`/api/images/${first.id}`, { method: 'DELETE', headers: bearer(carol.key) })).status, 204);
    await s.uploadOk(image, { headers: bearer(carol.key) });
  });

  it('gives 20 concurrent uploads against a quota that fits 7 exactly 7 acceptances, never more', async () => {
    const dave = await addUser(s.server.library.repo.accounts, 'dave', { quotaBytes: 7 * size + size - 1 });
    const answers = await Promise.all(Array.from({ length: 20 }, () => s.upload(image, { headers: bearer(dave.key) })));
    const statuses = answers.map((res) => res.status).sort();
    const accepted = await Promise.all(answers.filter((res) => res.status === 201).map(async (res) => res.json() as Promise<UploadedImage>));
    await Promise.all(answers.filter((res) => res.status !== 201).map((res) => res.arrayBuffer()));
    assert.deepEqual(statuses, [...Array<number>(7).fill(201), ...Array<number>(13).fill(413)]);
    assert.equal(new Set(accepted.map((img) => img.id)).size, 7);
    assert.deepEqual(await usage(s, dave), { bytes: 7 * size, images: 7 });
    assert.deepEqual(await leftovers(s.dataDir), { unfinished: [], orphans: [], temp: [] });
  });
});
