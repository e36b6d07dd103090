// The whole server with --db=postgres://...: the HTTP layer must behave exactly as on SQLite,
// and a PostgreSQL outage must show as 503 (never a crash or a restart) and heal by itself.
import assert from 'node:assert/strict';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { photo } from '../helpers/images.js';
import { jpegVariant } from '../helpers/jpeg.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { startTestServer, type TestServer, type UploadedImage } from '../helpers/server.js';

interface Page { images: UploadedImage[]; next_cursor: string | null }

const exists = (path: string): Promise<boolean> => access(path).then(() => true, () => false);

describe('imghost on PostgreSQL', () => {
  let db: TestPostgres;
  let s: TestServer;
  before(async () => {
    db = await startPostgres();
    // The files differ only in a JPEG comment, which stripping would remove.
    s = await startTestServer({ db: db.url, db_timeout: 2, strip_metadata: false });
  });
  after(async () => {
    await s.close();
    await db.stop();
  });

  const blobPath = (hash: string): string => join(s.dataDir, 'blobs', hash.slice(0, 2), hash.slice(2, 4), hash);
  const list = async (query: string): Promise<Page> => {
    const res = await s.fetch(`/api/images${query}`);
    assert.equal(res.status, 200);
    return await res.json() as Page;
  };
  const remove = (img: UploadedImage) =>
    s.fetch(`/api/images/${img.id}`, { method: 'DELETE', headers: { 'x-delete-token': img.delete_token } });

  it('keeps its records in PostgreSQL, not in an SQLite file', async () => {
    const img = await s.uploadOk(await photo(40, 30), { filename: 'where.jpg', type: 'image/jpeg' });
    const rows = await db.query<{ id: string; ready: boolean }>('SELECT id, ready FROM images WHERE id = $1', [img.id], 'imghost');
    assert.deepEqual(rows, [{ id: img.id, ready: true }]);
    assert.equal(await exists(join(s.dataDir, 'imghost.db')), false);
    assert.equal((await remove(img)).status, 204);
  });

  it('uploads, lists in pages, serves byte-exact, deletes, then answers 404', async () => {
    const base = await photo(64, 48);
    const files = ['a', 'b', 'c'].map((label) => jpegVariant(base, label));
    const uploaded: UploadedImage[] = [];
    for (const [i, data] of files.entries()) uploaded.push(await s.uploadOk(data, { filename: `${String(i)}.jpg`, type: 'image/jpeg' }));

    const first = await list('?limit=2');
    assert.deepEqual(first.images.map((i) => i.id), [uploaded[2]?.id, uploaded[1]?.id]);
    assert.ok(first.next_cursor !== null);
    const second = await list(`?limit=2&before=${first.next_cursor}`);
    assert.deepEqual(second.images.map((i) => i.id), [uploaded[0]?.id]);
    assert.equal(second.next_cursor, null);

    for (const [i, img] of uploaded.entries()) {
      const res = await s.fetch(`/imgs/${img.id}/orig`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'image/jpeg');
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), files[i]);
      const thumb = await s.fetch(`/imgs/${img.id}/thumb`);
      assert.equal(thumb.status, 200);
      assert.equal(Number(thumb.headers.get('content-length')), img.thumb.bytes);
      await thumb.arrayBuffer();
    }

    for (const img of uploaded) {
      assert.equal((await remove(img)).status, 204);
      assert.equal((await s.fetch(`/api/images/${img.id}`)).status, 404);
      assert.equal((await s.fetch(`/imgs/${img.id}/orig`)).status, 404);
    }
    assert.deepEqual((await list('')).images, []);
  });

  it('stores a duplicate upload once and keeps its blob until the last image using it is deleted', async () => {
    const data = await photo(50, 50);
    const a = await s.uploadOk(data, { type: 'image/jpeg' });
    const b = await s.uploadOk(data, { type: 'image/jpeg' });
    assert.notEqual(a.id, b.id);
    assert.equal(a.sha256, b.sha256);

    assert.equal((await remove(a)).status, 204);
    const res = await s.fetch(`/imgs/${b.id}/orig`);
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), data);
    assert.equal(await exists(blobPath(b.sha256)), true);

    assert.equal((await remove(b)).status, 204);
    assert.equal(await exists(blobPath(b.sha256)), false);
  });

  it('answers /readyz 503 naming db while PostgreSQL is stopped, and 200 once it is back, without a restart', async () => {
    const img = await s.uploadOk(await photo(30, 20), { type: 'image/jpeg' });
    assert.equal((await s.fetch('/readyz')).status, 200);

    await db.halt();
    try {
      const res = await s.fetch('/readyz');
      assert.equal(res.status, 503);
      assert.deepEqual(await res.json(), { status: 'unavailable', checks: { db: false, store: true }, down: ['db'] });
      const get = await s.fetch(`/api/images/${img.id}`);
      assert.equal(get.status, 503);
      assert.equal(get.headers.get('retry-after'), '5');
      assert.equal((await get.json() as { error: string }).error, 'UNAVAILABLE');
      assert.equal((await s.fetch('/healthz')).status, 200);
    } finally {
      await db.resume();
    }

    const res = await s.fetch('/readyz');
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: 'ready', checks: { db: true, store: true }, down: [] });
    const again = await s.fetch(`/imgs/${img.id}/orig`);
    assert.equal(again.status, 200);
    await again.arrayBuffer();
  });
});
