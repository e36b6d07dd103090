// Quotas across nodes: two servers on one PostgreSQL (and one blob directory) take a user's
// uploads at once, and together never take them past their quota; the boundary holds as on SQLite.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { addUser, bearer } from '../helpers/accounts.js';
import { photo } from '../helpers/images.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { startTestServer, tempDir, type TestServer } from '../helpers/server.js';

interface MeJson { usage: { bytes: number; images: number } }

describe('quotas on two nodes sharing PostgreSQL', () => {
  let pg: TestPostgres;
  let a: TestServer, b: TestServer;
  let image: Buffer;
  let size: number;

  before(async () => {
    pg = await startPostgres();
    // No per-client bound and room to receive all 20 at once: only the quota may refuse them.
    const shared = { db: pg.url, store: await tempDir('imghost-shared-blobs-'), max_uploads_per_client: 0, max_receiving: 20, cookie_secret: 'one-secret-for-both-nodes-0123456789' };
    [a, b] = [await startTestServer(shared), await startTestServer(shared)];
    image = await photo(64, 48);
    const probe = await addUser(a.server.library.repo.accounts, 'probe');
    size = (await a.uploadOk(image, { headers: bearer(probe.key) })).bytes;
  });
  after(async () => {
    await Promise.all([a.close(), b.close()]);
    await pg.stop();
  });

  const me = async (node: TestServer, key: string): Promise<MeJson> => await (await node.fetch('/api/me', { headers: bearer(key) })).json() as MeJson;
  /** The user's records in the database, pending ones included. */
  const ownedRows = async (userId: string): Promise<number> => {
    const [row] = await pg.query<{ n: string }>('SELECT count(*) AS n FROM images WHERE owner_id = $1', [userId], 'imghost');
    return Number(row?.n);
  };

  it('takes an upload on either node up to the quota exactly, refuses one byte over with 413, and keeps no record of it', async () => {
    const alice = await addUser(b.server.library.repo.accounts, 'alice', { quotaBytes: 2 * size });
    await a.uploadOk(image, { headers: bearer(alice.key) });
    await b.uploadOk(image, { headers: bearer(alice.key) });
    // Room left, but one byte short: refused by the insert's check, which knows the file's size.
    await a.server.library.repo.accounts.setLimits(alice.id, { quotaBytes: 3 * size - 1 });
    const over = await a.upload(image, { headers: bearer(alice.key) });
    assert.equal(over.status, 413);
    assert.match((await over.json() as { message: string }).message, /KiB of \S+ KiB used; this file is/);
    assert.deepEqual((await me(b, alice.key)).usage, { bytes: 2 * size, images: 2 });
    assert.equal(await ownedRows(alice.id), 2);
  });

  it('gives 20 concurrent uploads, spread over both nodes, against a quota that fits 7 exactly 7 acceptances', async () => {
    const bob = await addUser(a.server.library.repo.accounts, 'bob', { quotaBytes: 8 * size - 1 });
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).upload(image, { headers: bearer(bob.key) })));
    await Promise.all(answers.map((res) => res.arrayBuffer()));
    assert.deepEqual(answers.map((res) => res.status).sort(), [...Array<number>(7).fill(201), ...Array<number>(13).fill(413)]);
    assert.deepEqual((await me(a, bob.key)).usage, { bytes: 7 * size, images: 7 });
    assert.equal(await ownedRows(bob.id), 7, 'no refused upload left a pending record');
  });

  it('counts images the same way: 20 concurrent uploads against max_images=5 give 5', async () => {
    const carol = await addUser(a.server.library.repo.accounts, 'carol', { maxImages: 5 });
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? b : a).upload(image, { headers: bearer(carol.key) })));
    await Promise.all(answers.map((res) => res.arrayBuffer()));
    assert.equal(answers.filter((res) => res.status === 201).length, 5);
    assert.equal(await ownedRows(carol.id), 5);
  });
});
