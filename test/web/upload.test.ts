// The upload page in a real browser: files sent by the picker, a drop and a paste, each with its
// own progress bar, then its thumbnail, links and copy buttons; refusals explained; the recent
// grid growing as the reader scrolls.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { desktop, launchBrowser, openPickerByKeyboard, openTab, phone, screenshot, type Tab, uploadPageSuite } from '../helpers/browser.js';
import { animatedGif, photo, solid } from '../helpers/images.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

interface Listed { id: string; name: string | null }

const listed = async (s: TestServer): Promise<Listed[]> =>
  ((await (await s.fetch('/api/images?limit=100')).json()) as { images: Listed[] }).images;

/** Hands files to the page the way a drag from the desktop does: dragenter, dragover, drop. */
async function dropFiles(page: Page, files: { name: string; type: string; data: Buffer }[]): Promise<void> {
  await page.evaluate((payload) => {
    const transfer = new DataTransfer();
    for (const { name, type, bytes } of payload) transfer.items.add(new File([new Uint8Array(bytes)], name, { type }));
    const zone = document.querySelector('form[data-upload]');
    for (const type of ['dragenter', 'dragover', 'drop']) {
      zone?.dispatchEvent(new DragEvent(type, { dataTransfer: transfer, bubbles: true, cancelable: true }));
    }
  }, files.map(({ name, type, data }) => ({ name, type, bytes: [...data] })));
}

/** The finished item for a file name: its state, status line and thumbnail. */
function uploadItem(page: Page, name: string) {
  return page.locator('.upload-item').filter({ has: page.locator('.name', { hasText: name }) });
}

async function waitForState(page: Page, name: string, state: 'done' | 'error'): Promise<void> {
  await uploadItem(page, name).and(page.locator(`[data-state="${state}"]`)).waitFor({ timeout: 15_000 });
}

describe('the upload page in Chromium', () => {
  let s: TestServer;
  let tab: Tab;
  uploadPageSuite({ max_upload_size: 2 * 1024 * 1024 }, async (server, opened) => {
    [s, tab] = [server, opened];
    await tab.page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
  });

  it('uploads a file from the picker with a progress bar that reaches 100%, then shows its thumbnail', async () => {
    const { page } = tab;
    // Throttle the upload so the bar moves through real intermediate values.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 500_000 });
    await page.evaluate(() => {
      const seen: number[] = [];
      Object.assign(window, { progressSeen: seen });
      new MutationObserver((records) => {
        for (const r of records) if (r.target instanceof HTMLProgressElement) seen.push(r.target.value);
      }).observe(document.body, { subtree: true, attributes: true, attributeFilter: ['value'] });
    });
    const data = await photo(500, 400, 'png');
    assert.ok(data.length > 300_000, `a file big enough to take a while at 500 kB/s: ${String(data.length)} bytes`);
    await page.setInputFiles('#file', { name: 'picked.png', mimeType: 'image/png', buffer: data });
    await waitForState(page, 'picked.png', 'done');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });

    const seen = await page.evaluate(() => (window as unknown as { progressSeen: number[] }).progressSeen);
    assert.equal(Math.max(...seen), 100, `the bar reached 100%: ${seen.join(',')}`);
    assert.ok(seen.some((v) => v > 0 && v < 100), `the bar showed progress on the way: ${seen.join(',')}`);
    const thumb = uploadItem(page, 'picked.png').locator('.preview img');
    await thumb.waitFor();
    assert.ok(await thumb.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth === 128), 'the thumbnail loaded');
    const [image] = await listed(s);
    assert.equal(image?.name, 'picked.png');
    assert.equal(await thumb.getAttribute('src'), `${s.url}/imgs/${image.id}/thumb`, 'the upload answer\'s own link, absolute');
  });

  it('copies a Markdown link of the uploaded image with one click', async () => {
    const { page } = tab;
    const [image] = await listed(s);
    await uploadItem(page, 'picked.png').getByRole('button', { name: 'Copy Markdown' }).click();
    await page.locator('[data-toast]', { hasText: 'Copied the Markdown' }).waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), `![picked.png](${s.url}/imgs/${image?.id ?? ''}/orig)`);
  });

  it('links each named size of the uploaded image, as the image page does', async () => {
    const { page } = tab;
    const [image] = await listed(s);
    const links = uploadItem(page, 'picked.png').locator('.sizes a');
    const offered = await links.evaluateAll((anchors: HTMLAnchorElement[]) => anchors.map((a) => [a.textContent, a.href]));
    const variants = ((await (await s.fetch(`/api/images/${image?.id ?? ''}`)).json()) as { variants: Record<string, string> }).variants;
    assert.deepEqual(offered, Object.entries(variants));
    const largest = await s.fetch(new URL(offered.at(-1)?.[1] ?? '').pathname);
    assert.equal(largest.status, 200);
    assert.match(largest.headers.get('content-type') ?? '', /^image\//);
  });

  it('shows an uploaded animation playing, from its smallest size rather than the still thumbnail', async () => {
    const { page } = tab;
    await page.setInputFiles('#file', { name: 'moving.gif', mimeType: 'image/gif', buffer: await animatedGif(3, 200, 150) });
    await waitForState(page, 'moving.gif', 'done');
    const [image] = await listed(s);
    const preview = uploadItem(page, 'moving.gif').locator('.preview img');
    assert.equal(await preview.getAttribute('src'), `${s.url}/imgs/${image?.id ?? ''}/small`);
    await page.waitForFunction((img) => img instanceof HTMLImageElement && img.complete && img.naturalWidth > 0, await preview.elementHandle());
    const shown = await s.fetch(`/imgs/${image?.id ?? ''}/small`, { headers: { accept: 'image/avif,image/webp,*/*' } });
    assert.equal(shown.headers.get('content-type'), 'image/webp', 'an animation is sent as WebP, never as a still AVIF');
    assert.equal((await sharp(Buffer.from(await shown.arrayBuffer())).metadata()).pages, 3, 'with all its frames');
  });

  it('uploads several files dropped on the page, each with its own entry', async () => {
    const { page } = tab;
    const files = await Promise.all(['#d04040', '#40d040', '#4040d0'].map(async (color, i) =>
      ({ name: `dropped-${String(i)}.png`, type: 'image/png', data: await solid(60, 40, color) })));
    await dropFiles(page, files);
    for (const { name } of files) await waitForState(page, name, 'done');
    const names = (await listed(s)).map((image) => image.name);
    for (const { name } of files) assert.ok(names.includes(name), `${name} is stored`);
  });

  it('uploads an image pasted from the clipboard', async () => {
    const { page } = tab;
    const data = await solid(30, 30, '#ff8800');
    await page.evaluate((bytes) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([new Uint8Array(bytes)], 'image.png', { type: 'image/png' }));
      document.dispatchEvent(new ClipboardEvent('paste', { clipboardData: transfer, bubbles: true, cancelable: true }));
    }, [...data]);
    await waitForState(page, 'image.png', 'done');
    assert.equal((await listed(s))[0]?.name, 'image.png');
  });

  it('shows the server message for a file that is not an image, and stores nothing', async () => {
    const { page } = tab;
    const before = (await listed(s)).length;
    await page.setInputFiles('#file', { name: 'notes.png', mimeType: 'image/png', buffer: Buffer.from('just some text, not a picture') });
    await waitForState(page, 'notes.png', 'error');
    const alert = uploadItem(page, 'notes.png').getByRole('alert');
    assert.match(await alert.innerText(), /cannot identify image file/);
    assert.equal((await listed(s)).length, before);
  });

  it('refuses a file over the server limit before sending it', async () => {
    const { page } = tab;
    const sent: string[] = [];
    page.on('request', (request) => { if (request.method() === 'POST') sent.push(request.url()); });
    await page.setInputFiles('#file', { name: 'huge.png', mimeType: 'image/png', buffer: Buffer.alloc(3 * 1024 * 1024, 1) });
    await waitForState(page, 'huge.png', 'error');
    assert.match(await uploadItem(page, 'huge.png').getByRole('alert').innerText(), /the file is 3 MiB; the limit is 2 MiB/);
    assert.deepEqual(sent, [], 'nothing was posted');
  });

  it('refuses a type the server does not accept before sending it', async () => {
    const { page } = tab;
    await page.setInputFiles('#file', { name: 'drawing.svg', mimeType: 'image/svg+xml', buffer: Buffer.from('<svg/>') });
    await waitForState(page, 'drawing.svg', 'error');
    assert.match(await uploadItem(page, 'drawing.svg').getByRole('alert').innerText(), /image\/svg\+xml is not an accepted image type \(JPEG, PNG, WebP, GIF, AVIF or TIFF\)/);
  });

  it('shows new uploads at the top of the recent grid without a reload', async () => {
    const { page } = tab;
    const [newest] = await listed(s);
    await page.locator(`[data-grid] li[data-id="${newest?.id ?? ''}"]`).waitFor();
    assert.equal(await page.locator('[data-grid] li').first().getAttribute('data-id'), newest?.id);
    await screenshot(page, 'uploads-desktop-light');
  });

  it('opens the file picker from the keyboard', async () => {
    const { page } = tab;
    await page.goto('/');
    await page.locator('body').focus();
    let focused = '';
    // Past the upload's choices (unlisted, expiry, views), which the form sends ahead of the files.
    for (let i = 0; i < 8 && focused !== 'file'; i++) {
      await page.keyboard.press('Tab');
      focused = await page.evaluate(() => document.activeElement?.id ?? '');
    }
    assert.equal(focused, 'file', 'the picker is reachable with Tab');
    assert.ok((await openPickerByKeyboard(page)).isMultiple(), 'the picker takes several files');
  });
});

describe('the upload page when the server is busy', () => {
  let s: TestServer;
  let browser: Browser;
  before(async () => {
    [s, browser] = await Promise.all([startTestServer({ thumb_concurrency: 1, queue_limit: 0 }), launchBrowser()]);
  });
  after(async () => {
    await browser.close();
    await s.close();
  });

  it('says when to retry, and the retry button sends the file again', async () => {
    const { page, errors } = await openTab(browser, s.url);
    await page.goto('/');
    const big = await photo(2400, 1600);
    await page.setInputFiles('#file', Array.from({ length: 6 }, (_, i) => ({ name: `big-${String(i)}.jpg`, mimeType: 'image/jpeg', buffer: big })));
    await page.locator('.upload-item:not([data-state="waiting"]):not([data-state="uploading"]):not([data-state="processing"])').nth(5).waitFor({ timeout: 30_000 });
    const busy = page.locator('.upload-item[data-state="error"]');
    assert.ok(await busy.count() >= 1, 'six big uploads at once, one thumbnail slot, no queue: some were refused');
    assert.match(await busy.first().getByRole('alert').innerText(), /busy.*Try again in \d+ s\./);

    const name = await busy.first().locator('.name').innerText();
    await busy.first().getByRole('button', { name: 'Retry' }).click();
    await waitForState(page, name, 'done');
    assert.deepEqual(errors, []);
  });
});

describe('the upload page of a server that requires an upload token', () => {
  let s: TestServer;
  let browser: Browser;
  before(async () => {
    [s, browser] = await Promise.all([startTestServer({ upload_token: 'open sesame' }), launchBrowser()]);
  });
  after(async () => {
    await browser.close();
    await s.close();
  });

  it('asks for the token, sends it, and remembers it in this browser', async () => {
    const { page, errors } = await openTab(browser, s.url);
    await page.goto('/');
    const data = await solid(30, 20, '#228844');
    await page.setInputFiles('#file', { name: 'no-token.png', mimeType: 'image/png', buffer: data });
    await waitForState(page, 'no-token.png', 'error');
    assert.match(await uploadItem(page, 'no-token.png').getByRole('alert').innerText(), /enter the upload token first/);

    await page.getByLabel('Upload token').fill('wrong');
    await page.getByLabel('Upload token').dispatchEvent('change');
    await page.setInputFiles('#file', { name: 'wrong-token.png', mimeType: 'image/png', buffer: data });
    await waitForState(page, 'wrong-token.png', 'error');
    assert.equal((await listed(s)).length, 0, 'nothing stored with a wrong token');

    await page.getByLabel('Upload token').fill('open sesame');
    await page.getByLabel('Upload token').dispatchEvent('change');
    await page.setInputFiles('#file', { name: 'with-token.png', mimeType: 'image/png', buffer: data });
    await waitForState(page, 'with-token.png', 'done');
    assert.equal((await listed(s))[0]?.name, 'with-token.png');

    await page.reload();
    assert.equal(await page.getByLabel('Upload token').inputValue(), 'open sesame');
    assert.deepEqual(errors, []);
  });
});

describe('the recent grid in Chromium', () => {
  let s: TestServer;
  let browser: Browser;
  before(async () => {
    [s, browser] = await Promise.all([startTestServer({ recent_count: 4 }), launchBrowser()]);
    for (let i = 0; i < 10; i++) await s.uploadOk(await solid(40 + i, 30, `#${String(i).repeat(3)}`), { filename: `n${String(i)}.png` });
  });
  after(async () => {
    await browser.close();
    await s.close();
  });

  it('loads older images as the reader scrolls, newest first, with sized lazy thumbnails', async () => {
    const { page, errors } = await openTab(browser, s.url, { ...desktop, viewport: { width: 1280, height: 400 } });
    const served = await (await s.fetch('/')).text();
    assert.equal(served.match(/<li data-id=/g)?.length, 4, 'the server renders one page of 4');
    await page.goto('/');
    for (let i = 0; i < 5 && await page.locator('[data-more]').count() > 0; i++) {
      await page.mouse.wheel(0, 5000);
      await page.waitForTimeout(200);
    }
    await page.locator('[data-grid] li').nth(9).waitFor();
    const names = await page.locator('[data-grid] li img').evaluateAll((imgs) => imgs.map((img) => img.getAttribute('alt')));
    assert.deepEqual(names, ['n9.png', 'n8.png', 'n7.png', 'n6.png', 'n5.png', 'n4.png', 'n3.png', 'n2.png', 'n1.png', 'n0.png']);
    assert.equal(await page.locator('[data-more]').count(), 0, 'no "older" link after the last page');
    const attrs = await page.locator('[data-grid] li img').first().evaluate((img) =>
      [img.getAttribute('loading'), img.getAttribute('width'), img.getAttribute('height')]);
    assert.deepEqual(attrs, ['lazy', '49', '30'], 'the thumbnail size, so the grid does not jump as images arrive');
    assert.deepEqual(errors, []);
  });

  it('pages through older images with the link when JavaScript is off', async () => {
    const { page } = await openTab(browser, s.url, { ...desktop, javaScriptEnabled: false });
    await page.goto('/');
    await page.getByRole('link', { name: 'Older images' }).click();
    await page.waitForURL(/\?before=/);
    const names = await page.locator('[data-grid] li img').evaluateAll((imgs) => imgs.map((img) => img.getAttribute('alt')));
    assert.deepEqual(names, ['n5.png', 'n4.png', 'n3.png', 'n2.png']);
  });

  it('keeps each thumbnail and caption inside its card, however long the file name', async () => {
    await s.uploadOk(await photo(400, 300), { filename: `${'a-very-long-file-name-'.repeat(6)}.jpg` });
    const { page } = await openTab(browser, s.url, desktop);
    await page.goto('/');
    const outside = await page.locator('[data-grid] li').evaluateAll((cards) => cards.flatMap((card) => {
      const box = card.getBoundingClientRect();
      return [...card.querySelectorAll('img, .caption, .caption > span')].map((part) => part.getBoundingClientRect())
        .filter((r) => r.left < box.left || r.right > box.right || r.top < box.top || r.bottom > box.bottom)
        .map((r) => `${card.getAttribute('data-id') ?? ''}: ${String(r.left)}-${String(r.right)} in ${String(box.left)}-${String(box.right)}`);
    }));
    assert.deepEqual(outside, []);
  });

  it('fits a phone screen: no sideways scrolling', async () => {
    const { page } = await openTab(browser, s.url, phone);
    await page.goto('/');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page is ${String(overflow)} px wider than the screen`);
    await screenshot(page, 'grid-phone-light');
  });
});

describe('the copy buttons of a server with --public_url', () => {
  let s: TestServer;
  let browser: Browser;
  before(async () => { [s, browser] = await Promise.all([startTestServer({ public_url: 'https://img.example.com' }), launchBrowser()]); });
  after(async () => {
    await browser.close();
    await s.close();
  });

  it('copy links on the public URL, whatever address the page was opened at', async () => {
    const { page } = await openTab(browser, s.url);
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
    await page.goto('/');
    await page.setInputFiles('#file', { name: 'public.png', mimeType: 'image/png', buffer: await solid(40, 30, '#123456') });
    await waitForState(page, 'public.png', 'done');
    const [image] = await listed(s);
    const id = image?.id ?? '';
    const clipboard = () => page.evaluate(() => navigator.clipboard.readText());
    await uploadItem(page, 'public.png').getByRole('button', { name: 'Copy link' }).click();
    assert.equal(await clipboard(), `https://img.example.com/imgs/${id}/orig`, 'from the upload list');
    await page.goto(`/i/${id}`);
    await page.getByRole('button', { name: 'Copy Page' }).click();
    assert.equal(await clipboard(), `https://img.example.com/i/${id}`, 'from the image page');
    await page.getByRole('button', { name: 'Copy BBCode' }).click();
    assert.equal(await clipboard(), `[url=https://img.example.com/i/${id}][img]https://img.example.com/imgs/${id}/orig[/img][/url]`);
  });
});
