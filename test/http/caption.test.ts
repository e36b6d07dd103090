// Grid captions on /: each thumbnail is named by its file name, format and size, so two uploads
// of the same picture can be told apart, and an upload without a name still reads sensibly.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { formatBytes } from '../../src/bytes.js';
import { attributes, tags, textOf } from '../helpers/html.js';
import { photo } from '../helpers/images.js';
import { startTestServer, type TestServer, type UploadedImage } from '../helpers/server.js';

/** Each card of the recent grid: its id, its caption as a reader sees it, and the caption's title. */
function captions(html: string): { id: string; text: string; title: string }[] {
  return [...html.matchAll(/<li data-id="([^"]+)">([\s\S]*?)<\/li>/g)].map(([, id = '', card = '']) => {
    const caption = /<p class="caption"[^>]*>[\s\S]*?<\/p>/.exec(card)?.[0] ?? '';
    return { id, text: textOf(caption), title: attributes(tags(caption, 'p')[0] ?? '').title ?? '' };
  });
}

describe('captions of the recent grid', () => {
  let s: TestServer;
  let jpeg: UploadedImage, png: UploadedImage, unnamed: UploadedImage;
  before(async () => {
    s = await startTestServer();
    jpeg = await s.uploadOk(await photo(300, 200, 'jpeg'), { filename: 'holiday.jpg', type: 'image/jpeg' });
    png = await s.uploadOk(await photo(300, 200, 'png'), { filename: 'holiday.jpg', type: 'image/png' });
    const raw = await s.fetch('/api/images', { method: 'POST', body: new Uint8Array(await photo(120, 80, 'png')), headers: { 'content-type': 'image/png' } });
    unnamed = await raw.json() as UploadedImage;
    assert.equal(unnamed.name, null);
  });
  after(() => s.close());

  it('name each image by its file name, format and size in binary units', async () => {
    const byId = new Map(captions(await (await s.fetch('/')).text()).map((c) => [c.id, c]));
    assert.equal(byId.get(jpeg.id)?.text, `holiday.jpg · JPEG · ${formatBytes(jpeg.bytes)}`);
    assert.match(byId.get(jpeg.id)?.text ?? '', /^holiday\.jpg · JPEG · \d+(\.\d)? KiB$/);
    // The full caption also as a tooltip, for a name the card cuts short.
    assert.equal(byId.get(jpeg.id)?.title, byId.get(jpeg.id)?.text);
  });

  it('tell apart two uploads of the same picture under the same name', async () => {
    const byId = new Map(captions(await (await s.fetch('/')).text()).map((c) => [c.id, c.text]));
    assert.equal(byId.get(png.id), `holiday.jpg · PNG · ${formatBytes(png.bytes)}`);
    assert.notEqual(byId.get(png.id), byId.get(jpeg.id));
  });

  it('name an upload that came without a file name by its id', async () => {
    const byId = new Map(captions(await (await s.fetch('/')).text()).map((c) => [c.id, c.text]));
    assert.equal(byId.get(unnamed.id), `image ${unnamed.id} · PNG · ${formatBytes(unnamed.bytes)}`);
  });
});
