// Placeholders in a real browser: while an image is still on its way (its response held back),
// the image page and the grid paint its placeholder in its place, with JavaScript or without,
// and the page's Content-Security-Policy refuses nothing on the way.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { desktop, launchBrowser, openTab, type Tab } from '../helpers/browser.js';
import { photo, scene } from '../helpers/images.js';
import { startTestServer, type TestServer, type UploadedImage } from '../helpers/server.js';

/** Holds back the responses for `pattern` until the returned function is called. */
async function holdBack(page: Page, pattern: string): Promise<() => void> {
  let release = (): void => undefined;
  const gate = new Promise<void>((resolve) => { release = resolve; });
  await page.route(pattern, async (route) => {
    await gate;
    await route.continue();
  });
  return release;
}

/** Records the page's CSP violations as events, besides the console messages `openTab` collects. */
async function recordViolations(page: Page): Promise<() => Promise<string[]>> {
  await page.addInitScript(() => {
    const seen: string[] = [];
    Object.assign(window, { violations: seen });
    document.addEventListener('securitypolicyviolation', (event) => { seen.push(`${event.violatedDirective} ${event.blockedURI}`); });
  });
  return () => page.evaluate(() => (window as unknown as { violations: string[] }).violations);
}

/**
 * Opens `path` with its images held back, once the page can first be painted: its stylesheet
 * blocks rendering, but not DOMContentLoaded on a page without a script to wait for it.
 */
async function openStyled(page: Page, path: string): Promise<void> {
  await page.goto(path, { waitUntil: 'domcontentloaded' });
  // Polled from the test: a page without JavaScript cannot run waitForFunction's.
  const styled = () => page.locator('html').evaluate(() => [...document.styleSheets].some((sheet) => sheet.href?.includes('/assets/') === true));
  for (let tries = 0; !(await styled()); tries++) {
    assert.ok(tries < 200, 'the stylesheet loads');
    await page.waitForTimeout(25);
  }
}

interface Painted { background: string; width: number; height: number; loaded: boolean }

const painted = (page: Page, selector: string): Promise<Painted> => page.locator(selector).evaluate((img: HTMLImageElement) => {
  const box = img.getBoundingClientRect();
  return { background: getComputedStyle(img).backgroundImage, width: box.width, height: box.height, loaded: img.complete && img.naturalWidth > 0 };
});

const PLACEHOLDER = /^url\("data:image\/webp;base64,[A-Za-z0-9+/=]+"\)$/;

describe('placeholders in Chromium', () => {
  let s: TestServer;
  let browser: Browser;
  let image: UploadedImage;
  before(async () => {
    [s, browser] = await Promise.all([startTestServer(), launchBrowser()]);
    image = await s.uploadOk(await scene(1600, 1200, 100), { filename: 'meadow.jpg' });
  });
  after(async () => {
    await browser.close();
    await s.close();
  });

  for (const javaScriptEnabled of [true, false]) {
    it(`shows the placeholder on the image page until the picture arrives (JavaScript ${javaScriptEnabled ? 'on' : 'off'})`, async () => {
      const { page, errors }: Tab = await openTab(browser, s.url, { ...desktop, javaScriptEnabled });
      const violations = await recordViolations(page);
      const release = await holdBack(page, `**/imgs/${image.id}/**`);
      await openStyled(page, image.page_url);

      const waiting = await painted(page, 'img.full');
      assert.equal(waiting.loaded, false, 'the picture is held back');
      assert.match(waiting.background, PLACEHOLDER);
      assert.ok(waiting.width > 300 && Math.abs(waiting.width / waiting.height - 4 / 3) < 0.02,
        `the placeholder fills the picture's box: ${String(waiting.width)}x${String(waiting.height)}`);

      release();
      await page.locator('img.full').evaluate((img: HTMLImageElement) => img.decode());
      const shown = await painted(page, 'img.full');
      assert.ok(shown.loaded);
      // With script, the placeholder is taken away so it cannot show through transparent parts.
      if (javaScriptEnabled) assert.equal(shown.background, 'none');
      if (javaScriptEnabled) assert.deepEqual(await violations(), []);
      assert.deepEqual(errors, []);
    });
  }

  it('shows placeholders in the grid, also for an upload the page adds without a reload', async () => {
    const { page, errors } = await openTab(browser, s.url);
    const violations = await recordViolations(page);
    const release = await holdBack(page, '**/imgs/*/thumb');
    await openStyled(page, '/');
    const card = (id: string) => `[data-grid] li[data-id="${id}"] img`;
    assert.match((await painted(page, card(image.id))).background, PLACEHOLDER, 'a server-rendered card');

    await page.setInputFiles('#file', { name: 'fresh.jpg', mimeType: 'image/jpeg', buffer: await photo(400, 300) });
    await page.locator('.upload-item[data-state="done"]').waitFor();
    const fresh = await page.locator('.upload-item a').first().getAttribute('href');
    const id = fresh?.split('/i/')[1] ?? '';
    await page.locator(card(id)).waitFor();
    const added = await painted(page, card(id));
    assert.equal(added.loaded, false, 'its thumbnail is held back');
    assert.match(added.background, PLACEHOLDER, 'a card added by the script');
    assert.ok(added.width > 0 && added.height > 0, `with its box: ${String(added.width)}x${String(added.height)}`);
    const rules = await page.locator('style[data-page-styles]').evaluate((style) => style.textContent);
    for (const shown of [image.id, id]) {
      assert.equal(rules.split(`img[data-placeholder="${shown}"]`).length - 1, 1, `one rule for ${shown}, however often the grid refreshed`);
    }
    release();
    assert.deepEqual(await violations(), []);
    assert.deepEqual(errors, []);
  });
});
