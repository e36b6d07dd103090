// The page of one image in a real browser, and the whole round trip a person makes: upload,
// open the page, copy a snippet, delete from the browser that uploaded it. Also the upload form
// with JavaScript off, hostile file names, and the screenshots of the README (light and dark).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { desktop, launchBrowser, openPickerByKeyboard, openTab, phone, screenshot } from '../helpers/browser.js';
import { photo, scene, solid } from '../helpers/images.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

describe('the image page in Chromium', () => {
  let s: TestServer;
  let browser: Browser;
  before(async () => {
    [s, browser] = await Promise.all([startTestServer(), launchBrowser()]);
  });
  after(async () => {
    await browser.close();
    await s.close();
  });

  it('shows the image fitted to the screen with its facts, and copies every share snippet', async () => {
    const image = await s.uploadOk(await photo(1600, 2400, 'jpeg'), { filename: 'tall [photo].jpg' });
    const { page, errors } = await openTab(browser, s.url);
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
    await page.goto(image.page_url);

    const shown = await page.locator('img.full').boundingBox();
    const viewport = page.viewportSize();
    assert.ok(shown && viewport, 'the image is laid out');
    assert.ok(shown.height <= viewport.height && shown.width <= viewport.width, `fits: ${JSON.stringify(shown)}`);
    assert.ok(Math.abs(shown.width / shown.height - 1600 / 2400) < 0.01, 'keeps its proportions');
    const facts = await page.locator('.facts').innerText();
    for (const fact of ['1600 × 2400 px', 'JPEG (image/jpeg)', `${image.bytes.toLocaleString('en')} bytes`, 'UTC']) {
      assert.ok(facts.includes(fact), `${fact} in ${facts}`);
    }

    // What the page offers to copy is what the API gave: absolute links.
    const direct = image.url, pageUrl = image.page_url;
    const expected: Record<string, string> = {
      Page: pageUrl,
      'Direct link': direct,
      Thumbnail: image.thumb_url,
      Markdown: `![tall \\[photo\\].jpg](${direct})`,
      HTML: `<a href="${pageUrl}"><img src="${direct}" alt="tall [photo].jpg"></a>`,
      BBCode: `[url=${pageUrl}][img]${direct}[/img][/url]`,
    };
    for (const [label, text] of Object.entries(expected)) {
      await page.getByRole('button', { name: `Copy ${label}` }).click();
      assert.equal(await page.evaluate(() => navigator.clipboard.readText()), text, label);
    }
    await page.getByRole('status').filter({ hasText: 'Copied the BBCode' }).waitFor();
    assert.equal(await page.locator('[data-delete]').isVisible(), false, 'no delete button without the token');
    assert.deepEqual(errors, []);
  });

  it('fetches a named size of a 4 MP photo, as AVIF or WebP, in a fraction of the original\'s bytes', async () => {
    const image = await s.uploadOk(await photo(2400, 1600), { filename: 'four-megapixels.jpg' });
    const { page, errors } = await openTab(browser, s.url);
    const fetched: { url: string; type: string; bytes: Promise<number> }[] = [];
    page.on('response', (response) => {
      if (!response.url().includes('/imgs/')) return;
      fetched.push({ url: response.url(), type: response.headers()['content-type'] ?? '', bytes: response.request().sizes().then((sz) => sz.responseBodySize) });
    });
    await page.goto(image.page_url);
    await page.locator('img.full').evaluate((img: HTMLImageElement) => img.decode());

    const bytes = (await Promise.all(fetched.map((f) => f.bytes))).reduce((a, b) => a + b, 0);
    assert.ok(fetched.length > 0 && fetched.every((f) => !f.url.endsWith('/orig')), `not the original: ${fetched.map((f) => f.url).join(', ')}`);
    assert.ok(fetched.every((f) => /^image\/(avif|webp)$/.test(f.type)), `AVIF or WebP: ${fetched.map((f) => f.type).join(', ')}`);
    assert.ok(bytes > 0 && bytes < 0.15 * image.bytes, `${String(bytes)} bytes for the picture, ${String(image.bytes)} in the original`);
    assert.deepEqual(errors, []);
  });

  it('uploads, opens the page, and deletes the image from the browser that uploaded it', async () => {
    const { page, errors } = await openTab(browser, s.url);
    await page.goto('/');
    await page.setInputFiles('#file', { name: 'to-delete.png', mimeType: 'image/png', buffer: await solid(80, 60, '#3366cc') });
    const item = page.locator('.upload-item[data-state="done"]').filter({ hasText: 'to-delete.png' });
    await item.getByRole('link', { name: 'Open' }).click();
    await page.waitForURL(/\/i\//);
    const id = page.url().split('/i/')[1] ?? '';
    assert.equal((await s.fetch(`/api/images/${id}`)).status, 200);

    page.once('dialog', (dialog) => { void dialog.accept(); });
    await page.getByRole('button', { name: 'Delete image' }).click();
    await page.waitForURL(`${s.url}/`);
    assert.equal((await s.fetch(`/api/images/${id}`)).status, 404, 'the image is gone');
    assert.equal((await s.fetch(`/imgs/${id}/orig`)).status, 404, 'its bytes are gone');
    assert.equal(await page.evaluate((key) => localStorage.getItem(key), `imghost:delete:${id}`), null, 'the token is forgotten');
    assert.deepEqual(errors, []);
  });

  it('works on a phone-sized screen: upload, open, share, all without sideways scrolling', async () => {
    const { page, errors } = await openTab(browser, s.url, phone);
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
    await page.goto('/');
    await page.setInputFiles('#file', { name: 'from-phone.jpg', mimeType: 'image/jpeg', buffer: await scene(1200, 1600) });
    const item = page.locator('.upload-item[data-state="done"]').filter({ hasText: 'from-phone.jpg' });
    await item.getByRole('button', { name: 'Copy link' }).tap();
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    assert.match(copied, /\/imgs\/[\w-]+\/orig$/);
    await item.getByRole('link', { name: 'Open' }).tap();
    await page.waitForURL(/\/i\//);
    for (const where of ['image page']) {
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `the ${where} is ${String(overflow)} px wider than the screen`);
    }
    const shown = await page.locator('img.full').boundingBox();
    assert.ok(shown && shown.width <= 390, 'the image fits the width of the phone');
    assert.equal(await page.locator('#share-1').inputValue(), copied, 'the direct link on the page is the one copied');
    assert.deepEqual(errors, []);
  });

  it('is operable by keyboard alone: upload, open, copy and delete', async () => {
    const { page, errors } = await openTab(browser, s.url);
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
    await page.goto('/');
    /** Presses Tab until the focused element matches, as a keyboard user would. */
    const tabTo = async (matches: (el: Element) => boolean, description: string) => {
      for (let i = 0; i < 40; i++) {
        await page.keyboard.press('Tab');
        if (await page.evaluateHandle(() => document.activeElement).then((h) => h.asElement()?.evaluate(matches))) return;
      }
      assert.fail(`Tab never reached ${description}`);
    };
    await tabTo((el) => el.id === 'file', 'the file picker');
    await (await openPickerByKeyboard(page)).setFiles({ name: 'keyboard.png', mimeType: 'image/png', buffer: await solid(40, 40, '#884422') });
    await page.locator('.upload-item[data-state="done"]').filter({ hasText: 'keyboard.png' }).waitFor();
    await tabTo((el) => el.textContent === 'Open', 'the Open link');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/i\//);
    const id = page.url().split('/i/')[1] ?? '';

    await tabTo((el) => el.getAttribute('aria-label') === 'Copy Markdown', 'Copy Markdown');
    await page.keyboard.press('Enter');
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), `![keyboard.png](${s.url}/imgs/${id}/orig)`);
    await tabTo((el) => el.textContent === 'Delete image', 'the delete button');
    page.once('dialog', (dialog) => { void dialog.accept(); });
    await page.keyboard.press('Enter');
    await page.waitForURL(`${s.url}/`);
    assert.equal((await s.fetch(`/api/images/${id}`)).status, 404);
    assert.deepEqual(errors, []);
  });

  it('keeps the image when the person cancels the delete', async () => {
    const { page } = await openTab(browser, s.url);
    await page.goto('/');
    await page.setInputFiles('#file', { name: 'keep.png', mimeType: 'image/png', buffer: await solid(20, 20, '#00aa00') });
    await page.locator('.upload-item[data-state="done"]').filter({ hasText: 'keep.png' }).getByRole('link', { name: 'Open' }).click();
    await page.waitForURL(/\/i\//);
    page.once('dialog', (dialog) => { void dialog.dismiss(); });
    await page.getByRole('button', { name: 'Delete image' }).click();
    const id = page.url().split('/i/')[1] ?? '';
    assert.equal((await s.fetch(`/api/images/${id}`)).status, 200);
  });

  it('works with JavaScript disabled: the form answers with the image, its links and its deletion link, and / lists it', async () => {
    const { page } = await openTab(browser, s.url, { ...desktop, javaScriptEnabled: false });
    await page.goto('/');
    assert.ok(await page.getByRole('button', { name: 'Upload', exact: true }).isVisible(), 'the plain submit button is shown');
    await page.setInputFiles('#file', { name: 'plain-form.png', mimeType: 'image/png', buffer: await solid(50, 50, '#aa00aa') });
    await page.getByRole('button', { name: 'Upload', exact: true }).click();
    await page.getByRole('heading', { name: 'Image uploaded' }).waitFor();
    const result = page.locator('.result');
    assert.equal(await result.locator('img').getAttribute('alt'), 'plain-form.png');
    const pageLink = await result.getByLabel('Page').inputValue();
    assert.match(pageLink, new RegExp(`^${s.url}/i/[\\w-]+$`));
    assert.match(await result.getByLabel('Delete token').inputValue(), /\S{16,}/);

    // Its links in another tab, as the result page is the answer to a POST that going back would repeat.
    const other = (await openTab(browser, s.url, { ...desktop, javaScriptEnabled: false })).page;
    await other.goto(pageLink);
    assert.match(await other.locator('h1').innerText(), /plain-form\.png/);
    await other.goto('/');
    assert.equal(await other.locator('[data-grid] li img').first().getAttribute('alt'), 'plain-form.png');

    await page.getByRole('link', { name: 'Delete this image…' }).click();
    await page.getByRole('button', { name: 'Delete' }).click();
    await page.waitForLoadState();
    assert.equal((await s.fetch(new URL(pageLink).pathname)).status, 404, 'the deletion link deleted it');
  });

  it('shows a hostile file name as text and runs none of it', async () => {
    const name = '<img src=x onerror="document.title=\'pwned\'">.png';
    const res = await s.fetch(`/api/images?name=${encodeURIComponent(name)}`, {
      method: 'POST', body: new Uint8Array(await solid(10, 10, '#000000')), headers: { 'content-type': 'image/png' },
    });
    assert.equal(res.status, 201);
    const { page_url } = await res.json() as { page_url: string };
    const { page, errors } = await openTab(browser, s.url);
    for (const path of ['/', page_url]) {
      await page.goto(path);
      assert.notEqual(await page.title(), 'pwned', path);
      assert.equal(await page.locator('img[src="x"]').count(), 0, `no injected element on ${path}`);
    }
    assert.equal(await page.locator('h1').innerText(), name);
    assert.deepEqual(errors, []);
  });
});

describe('screenshots for the README', () => {
  let s: TestServer;
  let browser: Browser;
  let pageUrl: string;
  before(async () => {
    [s, browser] = await Promise.all([startTestServer(), launchBrowser()]);
    for (const hue of [0, 40, 90, 150, 260, 300]) await s.uploadOk(await scene(900, 600 + hue, hue), { filename: `hills-${String(hue)}.jpg` });
    pageUrl = (await s.uploadOk(await scene(1800, 1200), { filename: 'evening hills.jpg' })).page_url;
  });
  after(async () => {
    await browser.close();
    await s.close();
  });

  for (const colorScheme of ['light', 'dark'] as const) {
    it(`renders the upload page, the grid and the image page in the ${colorScheme} theme`, async () => {
      for (const [device, options] of [['desktop', desktop], ['phone', phone]] as const) {
        const { page, errors } = await openTab(browser, s.url, { ...options, colorScheme });
        await page.goto('/');
        const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
        // The theme follows the system setting: a dark page has a dark background, and the reverse.
        const [r = 0, g = 0, b = 0] = (background.match(/\d+/g) ?? []).map(Number);
        assert.equal((r + g + b) / 3 < 128, colorScheme === 'dark', `${colorScheme} background is ${background}`);
        await screenshot(page, `upload-${device}-${colorScheme}`);
        await page.goto(pageUrl);
        await screenshot(page, `image-${device}-${colorScheme}`);
        assert.deepEqual(errors, []);
      }
    });
  }
});
