// Placeholders end to end, against the real server: an upload's JSON carries the ThumbHash of its
// thumbnail, a duplicate the same one, and both pages paint it behind the image through a <style>
// block that the page's CSP admits by a nonce of its own, and nothing else inline.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import sharp from 'sharp';
import { thumbHashToAverageRGBA } from 'thumbhash';
import { attributes, tags } from '../helpers/html.js';
import { photo, scene } from '../helpers/images.js';
import { startTestServer, type TestServer, type UploadedImage } from '../helpers/server.js';

type WithPlaceholder = UploadedImage & { placeholder: string | null };

/** The mean red, green and blue of an encoded picture, 0 to 255. */
async function meanColour(picture: Buffer): Promise<number[]> {
  const { channels } = await sharp(picture).stats();
  return channels.slice(0, 3).map((c) => c.mean);
}

const near = (a: number[], b: number[], tolerance: number) => a.every((v, i) => Math.abs(v - (b[i] ?? Infinity)) <= tolerance);

/** The page's placeholder rules (selector id -> data: URL), having checked the CSP admits their block by its nonce. */
function placeholderRules(res: Response, html: string): Map<string, string> {
  const csp = res.headers.get('content-security-policy') ?? '';
  const nonce = /style-src 'self' 'nonce-([A-Za-z0-9+/=]+)';/.exec(csp)?.[1];
  assert.ok(nonce !== undefined, `the CSP admits styles by nonce: ${csp}`);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-hashes/);
  const blocks = [...html.matchAll(/<style\b([^>]*)>([^<]*)<\/style>/g)];
  assert.equal(blocks.length, 1, 'one <style> block');
  assert.equal(attributes(`<style${blocks[0]?.[1] ?? ''}>`).nonce, nonce, 'carrying the nonce of the CSP');
  assert.doesNotMatch(html, /\sstyle=/i, 'no style attribute');
  const rules = new Map<string, string>();
  for (const [, id = '', url = ''] of (blocks[0]?.[2] ?? '').matchAll(/img\[data-placeholder="([\w-]+)"\]\{background-image:url\("(data:image\/webp;base64,[A-Za-z0-9+/=]+)"\)\}/g)) {
    rules.set(id, url);
  }
  return rules;
}

const dataUrlBytes = (url: string): Buffer => Buffer.from(url.slice(url.indexOf(',') + 1), 'base64');

describe('placeholders', () => {
  let s: TestServer;
  let image: WithPlaceholder;
  let thumbColour: number[];
  before(async () => {
    s = await startTestServer();
    image = await s.uploadOk(await scene(1200, 800, 20), { filename: 'dusk.jpg' }) as WithPlaceholder;
    thumbColour = await meanColour(Buffer.from(await (await s.fetch(image.thumb_url)).arrayBuffer()));
  });
  after(async () => { await s.close(); });

  it('come with an upload: a ThumbHash whose average colour is the thumbnail\'s', () => {
    assert.ok(image.placeholder !== null, 'the upload has a placeholder');
    const { r, g, b, a } = thumbHashToAverageRGBA(Buffer.from(image.placeholder, 'base64'));
    const average = [r, g, b].map((v) => v * 255);
    assert.ok(near(average, thumbColour, 12), `ThumbHash ${average.map(Math.round).join(',')} vs thumbnail ${thumbColour.map(Math.round).join(',')}`);
    assert.equal(a, 1, 'opaque, as a JPEG is');
  });

  it('are the same for a duplicate upload, and in the image\'s JSON', async () => {
    const twin = await s.uploadOk(await s.fetch(image.url).then(async (res) => Buffer.from(await res.arrayBuffer()))) as WithPlaceholder;
    assert.notEqual(twin.id, image.id);
    assert.equal(twin.placeholder, image.placeholder);
    const stored = await (await s.fetch(`/api/images/${image.id}`)).json() as WithPlaceholder;
    assert.equal(stored.placeholder, image.placeholder);
  });

  it('differ between different images', async () => {
    const other = await s.uploadOk(await photo(300, 200)) as WithPlaceholder;
    assert.ok(other.placeholder !== null);
    assert.notEqual(other.placeholder, image.placeholder);
  });

  for (const [where, path] of [['the home page grid', '/'], ['the image page', '']] as const) {
    it(`are painted behind the image on ${where}, in the thumbnail's colours`, async () => {
      const res = await s.fetch(path || image.page_url);
      const html = await res.text();
      const img = tags(html, 'img').map(attributes).find((a) => a['data-placeholder'] === image.id);
      assert.ok(img, 'the image is marked as having a placeholder');
      const url = placeholderRules(res, html).get(image.id);
      assert.ok(url !== undefined, 'the page has its rule');
      const picture = dataUrlBytes(url);
      const { width, height } = await sharp(picture).metadata();
      assert.ok(width <= 32 && height <= 32, `a tiny picture: ${String(width)}x${String(height)}`);
      const colour = await meanColour(picture);
      assert.ok(near(colour, thumbColour, 16), `placeholder ${colour.map(Math.round).join(',')} vs thumbnail ${thumbColour.map(Math.round).join(',')}`);
    });
  }

  it('use a new nonce on every page', async () => {
    const nonces = await Promise.all([0, 1, 2].map(async () => (await s.fetch('/')).headers.get('content-security-policy')));
    assert.equal(new Set(nonces).size, 3);
  });

  it('are absent, and nothing breaks, for an image stored without one', async () => {
    const old = await s.uploadOk(await photo(200, 150)) as WithPlaceholder;
    const db = new Database(join(s.dataDir, 'imghost.db'));
    try { db.prepare('UPDATE images SET placeholder = NULL WHERE id = ?').run(old.id); } finally { db.close(); }
    assert.equal((await (await s.fetch(`/api/images/${old.id}`)).json() as WithPlaceholder).placeholder, null);
    for (const path of ['/', old.page_url]) {
      const res = await s.fetch(path);
      const html = await res.text();
      assert.equal(res.status, 200, path);
      const img = tags(html, 'img').map(attributes).find((a) => (a.src ?? '').includes(old.id));
      assert.ok(img && !('data-placeholder' in img), `${path}: no placeholder mark`);
      assert.equal(placeholderRules(res, html).has(old.id), false, `${path}: no rule`);
    }
  });
});
