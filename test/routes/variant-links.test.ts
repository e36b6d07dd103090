// Where the named sizes (--variants) show up for clients: a URL per size in the image JSON, a 2x
// thumbnail in the grid of /, the candidates of the image page's picture, and its share panel.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { attributes, tags, textOf } from '../helpers/html.js';
import { photo } from '../helpers/images.js';
import { startTestServer, type TestServer, type UploadedImage } from '../helpers/server.js';

/** A srcset's candidates as [url, descriptor]. */
const candidates = (srcset: string) => srcset.split(',').map((c) => c.trim().split(/\s+/) as [string, string]);

/** The attributes of the image page's picture. */
async function picture(s: TestServer, image: UploadedImage): Promise<Record<string, string>> {
  const html = await (await s.fetch(image.page_url)).text();
  const full = tags(html, 'img').map(attributes).find((a) => a.class === 'full');
  assert.ok(full, 'the page shows the picture');
  return full;
}

describe('the named sizes in the JSON and the pages', () => {
  let s: TestServer;
  let wide: UploadedImage, medium: UploadedImage, tiny: UploadedImage;
  before(async () => {
    s = await startTestServer();
    // Larger than every size; between medium (800) and large (1600); smaller than every size.
    wide = await s.uploadOk(await photo(2000, 1000), { filename: 'wide.jpg' });
    medium = await s.uploadOk(await photo(1000, 1200), { filename: 'medium.jpg' });
    tiny = await s.uploadOk(await photo(200, 100), { filename: 'tiny.jpg' });
  });
  after(() => s.close());
  /** The image as a page's own markup links it: by site paths. */
  const markup = (image: UploadedImage): UploadedImage => ({
    ...image, url: s.path(image.url), thumb_url: s.path(image.thumb_url), page_url: s.path(image.page_url),
    variants: Object.fromEntries(Object.entries(image.variants).map(([name, url]) => [name, s.path(url)])),
  });

  it('lists one URL per configured size in the upload answer and the API, each serving an image', async () => {
    const fetched = await (await s.fetch(`/api/images/${wide.id}`)).json() as UploadedImage;
    const expected = { small: `${s.url}/imgs/${wide.id}/small`, medium: `${s.url}/imgs/${wide.id}/medium`, large: `${s.url}/imgs/${wide.id}/large` };
    assert.deepEqual(wide.variants, expected);
    assert.deepEqual(fetched.variants, expected);
    for (const url of Object.values(expected)) {
      const res = await s.fetch(url, { headers: { accept: 'image/webp,*/*' } });
      assert.equal(res.status, 200, url);
      assert.match(res.headers.get('content-type') ?? '', /^image\//, url);
      await res.arrayBuffer();
    }
  });

  it('follows --variants: other names, other URLs', async () => {
    const other = await startTestServer({ variants: 'mini:64,mid:200' });
    try {
      const image = await other.uploadOk(await photo(300, 200));
      assert.deepEqual(image.variants, { mini: `${other.url}/imgs/${image.id}/mini`, mid: `${other.url}/imgs/${image.id}/mid` });
      const grid = tags(await (await other.fetch('/')).text(), 'img').map(attributes).find((a) => a.src === other.path(image.thumb_url));
      assert.equal(grid?.srcset, undefined, 'no size is twice the thumbnail box, so no 2x candidate');
    } finally {
      await other.close();
    }
  });

  it('offers a 2x thumbnail in the grid of /, keeping its size and lazy loading', async () => {
    const imgs = tags(await (await s.fetch('/')).text(), 'img').map(attributes);
    for (const image of [wide, medium, tiny].map(markup)) {
      const img = imgs.find((a) => a.src === image.thumb_url);
      assert.ok(img, `${image.id} in the grid`);
      assert.deepEqual(candidates(img.srcset ?? ''), [[image.thumb_url, '1x'], [image.variants.small, '2x']]);
      assert.deepEqual([img.width, img.height, img.loading], [String(image.thumb.width), String(image.thumb.height), 'lazy']);
    }
  });

  it('shows the sizes smaller than the original, never a width above it', async () => {
    const w = markup(wide), m = markup(medium), t = markup(tiny);
    const big = await picture(s, wide);
    assert.deepEqual(candidates(big.srcset ?? ''), [[w.variants.small, '320w'], [w.variants.medium, '800w'], [w.variants.large, '1600w']]);
    assert.ok(big.sizes, 'sizes tells the browser how wide the picture is laid out');
    assert.deepEqual([big.width, big.height], ['2000', '1000']);

    // Portrait: the longest side is the height, so medium (800) is 667 wide; large would only repeat the original.
    const mid = await picture(s, medium);
    assert.deepEqual(candidates(mid.srcset ?? ''), [[m.variants.small, '267w'], [m.variants.medium, '667w'], [m.url, '1000w']]);
    for (const [url, width] of candidates(mid.srcset ?? '')) {
      const served = await sharp(Buffer.from(await (await s.fetch(url)).arrayBuffer())).metadata();
      assert.equal(`${String(served.width)}w`, width, `${url} is as wide as its srcset says`);
    }

    const small = await picture(s, tiny);
    assert.deepEqual(candidates(small.srcset ?? ''), [[t.url, '200w']]);
    assert.equal(small.src, t.url);
  });

  it('still links the original, and offers a direct link to each size in the share panel', async () => {
    const html = await (await s.fetch(wide.page_url)).text();
    const links = tags(html, 'a').map(attributes).filter((a) => a.href === s.path(wide.url));
    assert.ok(links.length >= 2, 'the picture and "Open original" link the original');
    assert.match(textOf(html), /Open original/);
    const values = new Map(tags(html, 'input').map(attributes).map((a) => [a.id, a.value]));
    const shared = Object.fromEntries([...html.matchAll(/<label for="([^"]+)">([^<]*)<\/label>/g)]
      .map((m) => [(m[2] ?? '').trim(), values.get(m[1] ?? '')]));
    for (const name of ['small', 'medium', 'large']) assert.equal(shared[`Size ${name}`], `${s.url}/imgs/${wide.id}/${name}`);
  });
});
