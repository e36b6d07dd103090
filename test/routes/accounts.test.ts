// Users and API keys over HTTP: with --uploads=users only a user's key uploads; each upload records
// its owner; a user sees their usage and their images (listed or not) and deletes them by key,
// never another user's; a server open to all is unchanged, and a user's key there still owns.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { addUser, bearer, type TestUser } from '../helpers/accounts.js';
import { solid } from '../helpers/images.js';
import { startTestServer, type TestServer, type UploadedImage } from '../helpers/server.js';

interface ErrorJson { status: number; error: string; message: string }
interface MeJson { user: string; usage: { bytes: number; images: number }; quota: { bytes: number | null; images: number | null } }
interface PageJson { images: { id: string; unlisted?: boolean }[]; next_cursor: string | null }

async function refusedWith(res: Response, status: number, error: string): Promise<ErrorJson> {
  const body = await res.json() as ErrorJson;
  assert.deepEqual([res.status, body.error], [status, error], body.message);
  return body;
}

const count = async (s: TestServer): Promise<number> => (await s.server.library.repo.referencedHashes()).size;

describe('--uploads=users', () => {
  let s: TestServer;
  let alice: TestUser, bob: TestUser;
  let image: Buffer;
  before(async () => {
    s = await startTestServer({ uploads: 'users', xsrf_cookies: false });
    [alice, bob] = [await addUser(s.server.library.repo.accounts, 'alice', { quotaBytes: 10 << 20 }), await addUser(s.server.library.repo.accounts, 'bob')];
    image = await solid(12, 12, '#208040');
  });
  after(() => s.close());

  it('answers 401 with a Bearer challenge to an upload without a key or with a wrong one, and stores nothing', async () => {
    const missing = await s.upload(image);
    assert.equal(missing.headers.get('www-authenticate'), 'Bearer realm="imghost"');
    assert.match((await refusedWith(missing, 401, 'API_KEY_REQUIRED')).message, /needs your API key: send Authorization: Bearer/);
    for (const wrong of ['ihk_nope', `${alice.key}x`, alice.key.slice(0, -1)]) {
      const res = await s.upload(image, { headers: bearer(wrong) });
      assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="imghost", error="invalid_token"');
      await refusedWith(res, 401, 'WRONG_UPLOAD_TOKEN');
    }
    assert.equal(await count(s), 0);
  });

  it('records the key\'s user as the owner, from the API header and from the form\'s token field', async () => {
    const api = await s.uploadOk(image, { headers: bearer(alice.key) });
    assert.equal((await s.server.library.get(api.id)).owner, alice.id);
    const form = new FormData();
    form.append('upload_token', bob.key);
    form.append('file', new Blob([new Uint8Array(image)], { type: 'image/png' }), 'a.png');
    const res = await s.fetch('/', { method: 'POST', body: form, headers: { accept: 'application/json' } });
    assert.equal(res.status, 201);
    const { images: [uploaded] } = await res.json() as { images: UploadedImage[] };
    assert.equal((await s.server.library.get(uploaded?.id ?? '')).owner, bob.id);
  });

  it('stops taking a revoked key at once', async () => {
    const carol = await addUser(s.server.library.repo.accounts, 'carol');
    await s.uploadOk(image, { headers: bearer(carol.key) });
    const [key] = await s.server.library.repo.accounts.keys(carol.id);
    assert.ok(key && await s.server.library.repo.accounts.revokeKey(key.id));
    await refusedWith(await s.upload(image, { headers: bearer(carol.key) }), 401, 'WRONG_UPLOAD_TOKEN');
  });

  it('GET /api/me answers the user, their usage and quota; 401 without a valid key', async () => {
    const before = await (await s.fetch('/api/me', { headers: bearer(alice.key) })).json() as MeJson;
    const uploaded = await s.uploadOk(image, { headers: bearer(alice.key) });
    const me = await (await s.fetch('/api/me', { headers: bearer(alice.key) })).json() as MeJson;
    assert.deepEqual(me, { user: 'alice', usage: { bytes: before.usage.bytes + uploaded.bytes, images: before.usage.images + 1 }, quota: { bytes: 10 << 20, images: null } });
    await refusedWith(await s.fetch('/api/me'), 401, 'API_KEY_REQUIRED');
    const wrong = await refusedWith(await s.fetch('/api/me', { headers: bearer('ihk_wrong') }), 401, 'WRONG_API_KEY');
    assert.match(wrong.message, /^this API key is not valid: it was mistyped or revoked/);
  });

  it('lets the owner\'s key delete without the delete token, refuses another user\'s key with 403, and keeps the delete token working', async () => {
    const [mine, other] = [await s.uploadOk(image, { headers: bearer(alice.key) }), await s.uploadOk(image, { headers: bearer(alice.key) })];
    const theirs = await s.fetch(`/api/images/${mine.id}`, { method: 'DELETE', headers: bearer(bob.key) });
    assert.match((await refusedWith(theirs, 403, 'NOT_YOURS')).message, /belongs to another user/);
    assert.equal((await s.fetch(mine.url)).status, 200);
    assert.equal((await s.fetch(`/api/images/${mine.id}`, { method: 'DELETE', headers: bearer(alice.key) })).status, 204);
    assert.equal((await s.fetch(mine.url)).status, 404);
    assert.equal((await s.fetch(`/api/images/${other.id}`, { method: 'DELETE', headers: { 'x-delete-token': other.delete_token } })).status, 204);
    await refusedWith(await s.fetch(`/api/images/${other.id}`, { method: 'DELETE', headers: bearer('ihk_wrong') }), 401, 'WRONG_API_KEY');
  });

  it('GET /api/me/images pages through the user\'s own images newest first, unlisted ones included, no one else\'s', async () => {
    const dave = await addUser(s.server.library.repo.accounts, 'dave');
    await s.uploadOk(image, { headers: bearer(bob.key) });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await s.fetch(`/api/images${i === 2 ? '?unlisted=1' : ''}`, { method: 'POST', body: new Uint8Array(image), headers: { ...bearer(dave.key), 'content-type': 'image/png' } });
      assert.equal(res.status, 201);
      ids.unshift((await res.json() as UploadedImage).id);
    }
    const seen: string[] = [];
    let pages = 0;
    for (let cursor: string | null = ''; cursor !== null; pages++) {
      const res = await s.fetch(`/api/me/images?limit=2${cursor === '' ? '' : `&before=${cursor}`}`, { headers: bearer(dave.key) });
      const page = await res.json() as PageJson;
      assert.equal(res.status, 200);
      seen.push(...page.images.map((img) => img.id));
      cursor = page.next_cursor;
    }
    assert.deepEqual(seen, ids);
    assert.equal(pages, 3);
    assert.equal((await s.server.library.get(ids[2] ?? '')).unlisted, true, 'the third upload is unlisted, and listed here all the same');
    await refusedWith(await s.fetch('/api/me/images'), 401, 'API_KEY_REQUIRED');
    await refusedWith(await s.fetch('/api/me/images?limit=0', { headers: bearer(dave.key) }), 400, 'BAD_REQUEST');
  });
});

describe('--uploads=anonymous (the default)', () => {
  let s: TestServer;
  let image: Buffer;
  before(async () => {
    s = await startTestServer();
    image = await solid(10, 10, '#802040');
  });
  after(() => s.close());

  it('takes uploads without a key, owned by nobody', async () => {
    const uploaded = await s.uploadOk(image);
    assert.equal((await s.server.library.get(uploaded.id)).owner, null);
  });

  it('makes an upload with a user\'s key theirs, and takes any other Bearer value as no key, as it always has', async () => {
    const erin = await addUser(s.server.library.repo.accounts, 'erin');
    const uploaded = await s.uploadOk(image, { headers: bearer(erin.key) });
    assert.equal((await s.server.library.get(uploaded.id)).owner, erin.id);
    const other = await s.uploadOk(image, { headers: bearer('ihk_mistyped') });
    assert.equal((await s.server.library.get(other.id)).owner, null);
  });
});

describe('--uploads=users with --upload_token', () => {
  it('takes only users\' keys: the shared token uploads nothing', async () => {
    const s = await startTestServer({ uploads: 'users', upload_token: 'shared secret' });
    try {
      const frank = await addUser(s.server.library.repo.accounts, 'frank');
      await refusedWith(await s.upload(await solid(8, 8, '#000'), { headers: bearer('shared secret') }), 401, 'WRONG_UPLOAD_TOKEN');
      await s.uploadOk(await solid(8, 8, '#000'), { headers: bearer(frank.key) });
    } finally {
      await s.close();
    }
  });
});
