// Link previews of an image page, read as an unfurler reads them (Facebook, X, Slack, Discord):
// the Open Graph and Twitter card tags of the page's head, the picture they name fetched as a bot
// fetches it, and the oEmbed answer the page's discovery link leads to.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import sharp from 'sharp';
import { attributes, tags } from '../helpers/html.js';
import { animatedGif, photo, rotatedJpeg } from '../helpers/images.js';
import { withServer, type TestServer, type UploadedImage } from '../helpers/server.js';

/** What a preview bot sends: it says it takes anything, AVIF included. */
const BOT = { 'user-agent': 'facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)', accept: 'image/avif,image/webp,*/*' };

interface Unfurled { meta: Record<string, string>; oembed: Record<string, string> | undefined }

/** The head's <meta> by property or name (the first of each, as unfurlers keep), and the oEmbed discovery link. */
function unfurl(html: string): Unfurled {
  const head = html.split(/<\/head>/i)[0] ?? '';
  const meta: Record<string, string> = {};
  for (const tag of tags(head, 'meta').map(attributes)) {
    const key = tag.property ?? tag.name;
    if (key !== undefined && tag.content !== undefined) meta[key] ??= tag.content;
  }
  const oembed = tags(head, 'link').map(attributes).find((a) => a.rel === 'alternate' && a.type === 'application/json+oembed');
  return { meta, oembed };
}

async function pageOf(s: TestServer, image: UploadedImage, headers: Record<string, string> = {}): Promise<Unfurled> {
  const res = await s.fetch(image.page_url, { headers: { ...BOT, accept: 'text/html', ...headers } });
  assert.equal(res.status, 200);
  return unfurl(await res.text());
}

interface Served { type: string | null; format?: string; width?: number; height?: number; pages?: number; channels?: number }

/** Fetches a picture as a bot would and reads what it really is. */
async function picture(s: TestServer, url: string): Promise<Served> {
  const res = await s.fetch(url, { headers: BOT });
  assert.equal(res.status, 200, url);
  const { format, width, height, pages, channels } = await sharp(Buffer.from(await res.arrayBuffer()), { animated: true }).metadata();
  return { type: res.headers.get('content-type'), format, width, height: pages === undefined ? height : height / pages, pages, channels };
}

/** Asserts the page's preview picture is `expected` and serves exactly what its tags say. */
async function assertPreview(s: TestServer, meta: Record<string, string>, expected: { url: string; width: number; height: number; type: string }) {
  assert.deepEqual(
    [meta['og:image'], meta['og:image:width'], meta['og:image:height'], meta['og:image:type'], meta['twitter:image']],
    [expected.url, String(expected.width), String(expected.height), expected.type, expected.url],
  );
  const served = await picture(s, expected.url);
  assert.deepEqual([served.type, `image/${served.format === 'jpeg' ? 'jpeg' : served.format ?? ''}`, served.width, served.height],
    [expected.type, expected.type, expected.width, expected.height], `${expected.url} serves what its tags say`);
}

describe('the Open Graph and Twitter card tags of an image page', () => {
  // The default named sizes (small 320, medium 800, large 1600); the listing off, which hides no page.
  withServer({ public_listing: false }, (server) => {
    let jpeg: UploadedImage;
    before(async () => { jpeg = await server().uploadOk(await photo(1999, 1333), { filename: 'beach.jpg' }); });

    it('describe the page and name a JPEG photo\'s named size closest to 1200 px, as .jpg, at the size it serves', async () => {
      const s = server();
      const { meta } = await pageOf(s, jpeg);
      assert.equal(meta['og:type'], 'website');
      assert.equal(meta['og:site_name'], 'imghost');
      assert.equal(meta['og:title'], 'beach.jpg');
      assert.equal(meta['og:url'], `${s.url}/i/${jpeg.id}`);
      assert.equal(meta['og:image:alt'], 'beach.jpg');
      assert.equal(meta['twitter:card'], 'summary_large_image');
      assert.equal(meta['twitter:title'], 'beach.jpg');
      await assertPreview(s, meta, { url: `${s.url}/imgs/${jpeg.id}/medium.jpg`, width: 800, height: 533, type: 'image/jpeg' });
    });

    it('name a PNG with alpha as .png, which keeps it, rounded as the size is made', async () => {
      const s = server();
      const clear = await sharp({ create: { width: 1333, height: 1999, channels: 4, background: { r: 10, g: 120, b: 200, alpha: 0.5 } } }).png().toBuffer();
      const image = await s.uploadOk(clear, { filename: 'glass.png' });
      const { meta } = await pageOf(s, image);
      await assertPreview(s, meta, { url: `${s.url}/imgs/${image.id}/medium.png`, width: 533, height: 800, type: 'image/png' });
      assert.equal((await picture(s, `${s.url}/imgs/${image.id}/medium.png`)).channels, 4, 'the alpha is kept');
    });

    it('name an animation as .gif, which plays every frame', async () => {
      const s = server();
      const image = await s.uploadOk(await animatedGif(3, 1500, 1000), { filename: 'blink.gif' });
      const { meta } = await pageOf(s, image);
      await assertPreview(s, meta, { url: `${s.url}/imgs/${image.id}/medium.gif`, width: 800, height: 533, type: 'image/gif' });
      assert.equal((await picture(s, `${s.url}/imgs/${image.id}/medium.gif`)).pages, 3);
    });

    it('give a sideways-stored JPEG\'s size as it is shown, upright', async () => {
      const s = server();
      const image = await s.uploadOk(await rotatedJpeg(1500, 1000), { filename: 'portrait.jpg' });
      const { meta } = await pageOf(s, image);
      await assertPreview(s, meta, { url: `${s.url}/imgs/${image.id}/medium.jpg`, width: 533, height: 800, type: 'image/jpeg' });
    });

    it('never enlarge: a small image\'s largest size is its own size', async () => {
      const s = server();
      const res = await s.fetch('/api/images', { method: 'POST', body: new Uint8Array(await photo(500, 300)), headers: { 'content-type': 'image/jpeg' } });
      assert.equal(res.status, 201);
      const image = await res.json() as UploadedImage;
      const { meta } = await pageOf(s, image);
      assert.equal(meta['og:title'], `Image ${image.id}`, 'a nameless image is titled by its id');
      await assertPreview(s, meta, { url: `${s.url}/imgs/${image.id}/large.jpg`, width: 500, height: 300, type: 'image/jpeg' });
    });

    it('stay off the image URLs themselves: a bot asking /imgs/ for HTML gets the image', async () => {
      const s = server();
      const res = await s.fetch(jpeg.url, { headers: { ...BOT, accept: 'text/html' } });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'image/jpeg');
      assert.equal((await sharp(Buffer.from(await res.arrayBuffer())).metadata()).width, 1999);
    });
  });
});

describe('previews without named sizes (--variants=)', () => {
  withServer({ variants: '' }, (server) => {
    it('name the original when bots decode its format', async () => {
      const s = server();
      const image = await s.uploadOk(await photo(900, 600), { filename: 'plain.jpg' });
      await assertPreview(s, (await pageOf(s, image)).meta, { url: image.url, width: 900, height: 600, type: 'image/jpeg' });
    });

    it('name the thumbnail for an original they may not decode (AVIF)', async () => {
      const s = server();
      const image = await s.uploadOk(await photo(240, 160, 'avif'), { filename: 'new.avif' });
      assert.equal(image.thumb.mime, 'image/webp');
      await assertPreview(s, (await pageOf(s, image)).meta, { url: image.thumb_url, width: image.thumb.width, height: image.thumb.height, type: 'image/webp' });
    });
  });
});

describe('where preview links point', () => {
  describe('with --public_url', () => {
    withServer({ public_url: 'https://img.example.com/pics' }, (server) => {
      it('on it, whatever the request', async () => {
        const s = server();
        const image = await s.uploadOk(await photo(1999, 1333), { filename: 'far.jpg' });
        const { meta, oembed } = await pageOf(s, image, { 'x-forwarded-host': 'evil.example' });
        assert.equal(meta['og:url'], `https://img.example.com/pics/i/${image.id}`);
        await assertPreview(s, meta, { url: `https://img.example.com/pics/imgs/${image.id}/medium.jpg`, width: 800, height: 533, type: 'image/jpeg' });
        assert.equal(oembed?.href, `https://img.example.com/pics/api/oembed?url=${encodeURIComponent(meta['og:url'] ?? '')}&format=json`);
      });
    });
  });

  describe('behind a trusted proxy', () => {
    withServer({ trusted_proxies: '127.0.0.1' }, (server) => {
      it('on the scheme and host it forwards', async () => {
        const s = server();
        const image = await s.uploadOk(await photo(640, 480), { filename: 'near.jpg' });
        const { meta, oembed } = await pageOf(s, image, { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'img.example.org' });
        assert.equal(meta['og:url'], `https://img.example.org/i/${image.id}`);
        assert.equal(meta['og:image'], `https://img.example.org/imgs/${image.id}/large.jpg`);
        assert.match(oembed?.href ?? '', /^https:\/\/img\.example\.org\/api\/oembed\?url=https%3A%2F%2Fimg\.example\.org%2Fi%2F/);
      });
    });
  });
});

describe('GET /api/oembed', () => {
  withServer({ public_listing: false }, (server) => {
    let image: UploadedImage;
    const oembed = (query: string) => server().fetch(`/api/oembed?${query}`);
    const of = (url: string, extra = '') => oembed(`url=${encodeURIComponent(url)}&format=json${extra}`);
    before(async () => { image = await server().uploadOk(await photo(1999, 1333), { filename: 'beach.jpg' }); });

    it('is what the page\'s discovery link leads to: a photo at the preview\'s picture and size', async () => {
      const s = server();
      const { meta, oembed: link } = await pageOf(s, image);
      assert.ok(link);
      assert.equal(link.title, 'beach.jpg');
      const res = await s.fetch(link.href ?? '');
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
      assert.deepEqual(await res.json(), {
        version: '1.0', type: 'photo', url: meta['og:image'], width: 800, height: 533, title: 'beach.jpg',
        provider_name: 'imghost', provider_url: `${s.url}/`,
        thumbnail_url: image.thumb_url, thumbnail_width: image.thumb.width, thumbnail_height: image.thumb.height,
      });
    });

    it('honours maxwidth and maxheight with the largest rendition inside them, served at the size it says', async () => {
      const s = server();
      const cases: [string, string][] = [
        ['&maxwidth=500', `${s.url}/imgs/${image.id}/small.jpg`],
        ['&maxwidth=1000&maxheight=600', `${s.url}/imgs/${image.id}/medium.jpg`],
        ['&maxheight=100', image.thumb_url],
        ['&maxwidth=5000', image.url],
      ];
      for (const [query, url] of cases) {
        const res = await of(image.page_url, query);
        assert.equal(res.status, 200, query);
        const answer = await res.json() as { url: string; width: number; height: number };
        assert.equal(answer.url, url, query);
        const served = await picture(s, answer.url);
        assert.deepEqual([served.width, served.height], [answer.width, answer.height], `${query}: ${url}`);
      }
      const tiny = await of(image.page_url, '&maxwidth=40');
      assert.equal(tiny.status, 404, 'nothing is that small');
    });

    it('answers 404 for a URL that is not an image page of this site', async () => {
      const s = server();
      for (const url of [`https://evil.example/i/${image.id}`, `${s.url}/`, image.url, `${s.url}/i/AAAAAAAAAAAAAAAA`, `${s.url}/i/${image.id}/delete`, 'not a url']) {
        const res = await of(url);
        assert.equal(res.status, 404, url);
        assert.equal((await res.json() as { status: number }).status, 404);
      }
    });

    it('answers 501 for XML, as the oEmbed spec says, and 400 for a missing url or a bad size', async () => {
      assert.equal((await oembed(`url=${encodeURIComponent(image.page_url)}&format=xml`)).status, 501);
      assert.equal((await oembed('format=json')).status, 400);
      assert.equal((await of(image.page_url, '&maxwidth=wide')).status, 400);
    });
  });

  describe('with --public_url', () => {
    withServer({ public_url: 'https://img.example.com/pics/' }, (server) => {
      it('takes the page URL on it or on the address the request reached, and answers with links on it', async () => {
        const s = server();
        const image = await s.uploadOk(await photo(640, 480), { filename: 'both.jpg' });
        for (const page of [image.page_url, `${s.url}/i/${image.id}`]) {
          const res = await s.fetch(`/api/oembed?url=${encodeURIComponent(page)}`);
          assert.equal(res.status, 200, page);
          const answer = await res.json() as { url: string; provider_url: string };
          assert.equal(answer.url, `https://img.example.com/pics/imgs/${image.id}/large.jpg`);
          assert.equal(answer.provider_url, 'https://img.example.com/pics/');
        }
        assert.equal((await s.fetch(`/api/oembed?url=${encodeURIComponent(`https://img.example.com/i/${image.id}`)}`)).status, 404, 'outside its path');
      });
    });
  });
});
