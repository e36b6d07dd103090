// A view-limited image through the real server: it is served only as its original, every GET of
// which is counted: its named and signed variant URLs answer 404 and none is made for it, and a
// range of the original spends a view as the whole does. And an image past its expiry or its views
// can still be deleted, by its delete token or its owner's key, until the sweep takes it.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { signedPath } from '../../src/variants/signing.js';
import { addUser, bearer } from '../helpers/accounts.js';
import { formBody } from '../helpers/form.js';
import { photo, solid } from '../helpers/images.js';
import { startTestServer, type TestServer, type UploadedImage } from '../helpers/server.js';

const KEY = 'a signing key long enough for the tests of view limits';

type WithExpiry = UploadedImage & { expires_at: string | null };

async function uploadedWith(s: TestServer, data: Buffer, terms: Record<string, string>, headers: Record<string, string> = {}): Promise<WithExpiry> {
  const res = await s.fetch('/api/images', { method: 'POST', headers, body: formBody(terms, [{ data, filename: 'image.png', type: 'image/png' }]) });
  const body = await res.text();
  assert.equal(res.status, 201, body);
  return JSON.parse(body) as WithExpiry;
}

describe('a view-limited image', () => {
  let s: TestServer;
  before(async () => { s = await startTestServer({ variants: 'small:64,large:1600', eager_variants: 'small', signing_key: KEY, expiry_sweep: 3600 }); });
  after(() => s.close());

  it('is served only as its original: variant URLs answer 404, none is made, and its views stay counted', async () => {
    // No larger than the large size: that variant would be its very pixels.
    const image = await uploadedWith(s, await solid(100, 100, '#3a7', 'png'), { max_views: '1' });
    assert.deepEqual(image.variants, {}, 'the upload answer offers no other size');
    assert.deepEqual((await (await s.fetch(`/api/images/${image.id}`)).json() as UploadedImage).variants, {});
    for (let i = 0; i < 3; i++) {
      for (const link of [`/imgs/${image.id}/large.png`, `/imgs/${image.id}/small`, signedPath(KEY, image.id, '100x100.png'), signedPath(KEY, image.id, '50x50')]) {
        const res = await s.fetch(link);
        const body = await res.json() as { message: string };
        assert.equal(res.status, 404, link);
        assert.match(body.message, /served only as its original/);
      }
    }
    // Eager variants go in upload order: once a later plain upload has its own, this one's turn has passed.
    const plain = await uploadedWith(s, await solid(100, 100, '#a37', 'png'), {});
    const deadline = Date.now() + 5000;
    while ((await s.server.library.repo.variantsOf(plain.sha256)).length === 0 && Date.now() < deadline) await sleep(50);
    assert.equal((await s.server.library.repo.variantsOf(plain.sha256)).length, 1, 'the plain image got its eager variant');
    assert.deepEqual(await s.server.library.repo.variantsOf(image.sha256), [], 'none was made of the limited one');

    assert.equal((await s.fetch(image.thumb_url)).status, 200, 'the thumbnail stays');
    assert.equal((await s.fetch(image.url)).status, 200, 'its one view was left');
    assert.equal((await s.fetch(image.url)).status, 410);
    assert.equal((await s.fetch(`/imgs/${image.id}/large.png`)).status, 410, 'then its variant URLs say it is gone');
  });

  it('spends a view on a range of its original, as on the whole', async () => {
    const image = await uploadedWith(s, await photo(60, 40), { max_views: '2' });
    const part = await s.fetch(image.url, { headers: { range: 'bytes=0-9' } });
    assert.equal(part.status, 206);
    assert.equal((await part.arrayBuffer()).byteLength, 10);
    const refused = await s.fetch(image.url, { headers: { range: `bytes=${String(image.bytes + 10)}-` } });
    assert.equal(refused.status, 416, 'an unsatisfiable range spends nothing');
    await refused.arrayBuffer();
    assert.equal((await s.fetch(image.url)).status, 200, 'the second view');
    assert.equal((await s.fetch(image.url, { headers: { range: 'bytes=0-9' } })).status, 410, 'no third, not even a part');
  });
});

describe('deleting an image past its expiry or its views, before the sweep', () => {
  let s: TestServer;
  before(async () => { s = await startTestServer({ expiry_sweep: 3600 }); });
  after(() => s.close());

  it('answers 204 to its delete token and to its owner\'s key, and removes it', async () => {
    const owner = await addUser(s.server.library.repo.accounts, 'owner');
    const expired = await uploadedWith(s, await photo(61, 41), { expires_in: '1' });
    const usedUp = await uploadedWith(s, await photo(62, 42), { max_views: '1' }, bearer(owner.key));
    const ownedExpired = await uploadedWith(s, await photo(63, 43), { expires_in: '1' }, bearer(owner.key));
    assert.equal((await s.fetch(usedUp.url)).status, 200);
    await sleep(Math.max(0, Date.parse(ownedExpired.expires_at ?? '') - Date.now()) + 50);
    for (const image of [expired, usedUp, ownedExpired]) assert.equal((await s.fetch(image.url)).status, 410, image.id);

    const byToken = await s.fetch(`/api/images/${expired.id}`, { method: 'DELETE', headers: { 'x-delete-token': expired.delete_token } });
    assert.equal(byToken.status, 204, await byToken.text());
    for (const image of [usedUp, ownedExpired]) {
      const byOwner = await s.fetch(`/api/images/${image.id}`, { method: 'DELETE', headers: bearer(owner.key) });
      assert.equal(byOwner.status, 204, await byOwner.text());
    }
    for (const image of [expired, usedUp, ownedExpired]) {
      assert.equal(await s.server.library.repo.get(image.id), null, `${image.id} is removed`);
      assert.equal((await s.fetch(image.url)).status, 404);
    }
  });

  it('still refuses a wrong delete token for an expired image', async () => {
    const image = await uploadedWith(s, await photo(64, 44), { expires_in: '1' });
    await sleep(Math.max(0, Date.parse(image.expires_at ?? '') - Date.now()) + 50);
    const res = await s.fetch(`/api/images/${image.id}`, { method: 'DELETE', headers: { 'x-delete-token': 'wrong' } });
    assert.equal(res.status, 403, await res.text());
    assert.notEqual(await s.server.library.repo.get(image.id), null);
  });
});
