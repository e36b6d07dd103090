// Visibility and lifetime on two nodes sharing one PostgreSQL and one blob store: a view limit
// holds exactly under concurrent GETs spread over both nodes; an image that expires answers 410
// on both, and their sweeps, running at once, remove its files and leave a library verify finds whole.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { formBody } from '../helpers/form.js';
import { photo } from '../helpers/images.js';
import { listedIds } from '../helpers/listing.js';
import { startSharedNodes, type SharedNodes } from '../helpers/nodes.js';
import type { TestServer, UploadedImage } from '../helpers/server.js';

type WithTerms = UploadedImage & { unlisted: boolean; expires_at: string | null; max_views: number | null };

describe('per-upload visibility and lifetime on two nodes sharing PostgreSQL', () => {
  let shared: SharedNodes;
  let nodes: TestServer[];
  before(async () => {
    shared = await startSharedNodes({ expiry_sweep: 1 });
    ({ nodes } = shared);
  });
  after(() => shared.close());

  const node = (i: number): TestServer => shared.node(i);
  const upload = async (terms: Record<string, string>): Promise<WithTerms> => {
    const data = await photo(50 + Math.floor(Math.random() * 50), 40);
    const res = await node(0).fetch('/api/images', { method: 'POST', body: formBody(terms, [{ data, filename: 'p.jpg', type: 'image/jpeg' }]) });
    assert.equal(res.status, 201, await res.clone().text());
    return await res.json() as WithTerms;
  };
  /** `count` GETs of the original at once, alternating between the nodes; their statuses. */
  const getAtOnce = (image: UploadedImage, count: number): Promise<number[]> => Promise.all(Array.from({ length: count }, async (_, i) => {
    const res = await node(i).fetch(image.url);
    await res.arrayBuffer();
    return res.status;
  }));
  const storeHas = async (hash: string): Promise<boolean> => {
    for await (const blob of node(0).server.library.store.list()) if (blob.key === hash) return true;
    return false;
  };

  it('max_views=1: of 20 concurrent GETs on both nodes exactly one is served, the rest are 410', async () => {
    const image = await upload({ max_views: '1' });
    const statuses = await getAtOnce(image, 20);
    assert.equal(statuses.filter((s) => s === 200).length, 1, statuses.join(' '));
    assert.equal(statuses.filter((s) => s === 410).length, 19, statuses.join(' '));
    for (const s of nodes) {
      for (const link of [image.url, image.thumb_url, image.page_url, `/api/images/${image.id}`]) assert.equal((await s.fetch(link)).status, 410, link);
    }
  });

  it('max_views=4: of 30 concurrent GETs on both nodes exactly four are served', async () => {
    const image = await upload({ max_views: '4' });
    const statuses = await getAtOnce(image, 30);
    assert.equal(statuses.filter((s) => s === 200).length, 4, statuses.join(' '));
    assert.equal(statuses.filter((s) => s === 410).length, 26, statuses.join(' '));
  });

  it('leaves unlisted and view-limited images out of both nodes\' listings', async () => {
    const unlisted = await upload({ unlisted: 'true' });
    const limited = await upload({ max_views: '3' });
    const listed = await upload({});
    for (const s of nodes) {
      const ids = await listedIds(s.url);
      assert.equal(ids.has(unlisted.id), false);
      assert.equal(ids.has(limited.id), false);
      assert.equal(ids.has(listed.id), true);
      assert.equal((await s.fetch(unlisted.url)).status, 200);
    }
  });

  it('expires_in: 410 on both nodes once it passes; the nodes\' sweeps remove its files; verify finds the library whole', async () => {
    const image = await upload({ expires_in: '1' });
    assert.equal((await node(1).fetch(image.url)).status, 200);
    await sleep(Math.max(0, Date.parse(image.expires_at ?? '') - Date.now()) + 50);
    for (const s of nodes) {
      const res = await s.fetch(`/api/images/${image.id}`);
      assert.equal(res.status, 410);
      assert.match((await res.json() as { message: string }).message, /expired/);
    }
    const deadline = Date.now() + 6000;
    while (await storeHas(image.sha256) && Date.now() < deadline) await sleep(100);
    assert.equal(await storeHas(image.sha256), false, 'the original is removed from the shared store');
    const verify = await runCli(['verify', `--db=${shared.pg.url}`, `--store=${shared.store}`, `--data_dir=${shared.dir}`]);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    assert.match(verify.stdout, /, 0 damaged\n$/);
  });
});
