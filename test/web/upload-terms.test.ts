// The upload page's visibility and lifetime choices in a real browser: the script sends them with
// each file, ahead of it, so an image uploaded as unlisted with a view limit and an expiry is
// stored so and left out of the grid; with no choice made the image is listed as before.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { screenshot, type Tab, uploadPageSuite } from '../helpers/browser.js';
import { photo } from '../helpers/images.js';
import { listedIds } from '../helpers/listing.js';
import type { TestServer } from '../helpers/server.js';

describe('the upload page\'s visibility and lifetime choices in Chromium', () => {
  let s: TestServer;
  let tab: Tab;
  uploadPageSuite({}, (server, opened) => { [s, tab] = [server, opened]; });

  const uploadFromPicker = async (name: string): Promise<void> => {
    const { page } = tab;
    await page.locator('input[type="file"]').setInputFiles({ name, mimeType: 'image/jpeg', buffer: await photo(60, 40) });
    await page.locator('.upload-item').filter({ has: page.locator('.name', { hasText: name }) })
      .and(page.locator('[data-state="done"]')).waitFor({ timeout: 15_000 });
  };
  const stored = async (name: string) => (await s.server.library.repo.list(100)).find((image) => image.name === name);

  it('stores an image as unlisted, expiring and view-limited when those are chosen', async () => {
    const { page } = tab;
    await page.getByLabel('Unlisted').check();
    await page.getByLabel('Expires').selectOption('1d');
    await page.getByLabel('Views').fill('3');
    await screenshot(page, 'upload-terms');
    const before = Date.now();
    await uploadFromPicker('private.jpg');
    const image = await stored('private.jpg');
    assert.ok(image);
    assert.equal(image.unlisted, true);
    assert.equal(image.maxViews, 3);
    const expiresIn = (image.expiresAt?.getTime() ?? 0) - before;
    assert.ok(expiresIn > 86_390_000 && expiresIn <= 86_400_000 + 5000, String(expiresIn));
    assert.equal((await listedIds(s.url)).has(image.id), false);
  });

  it('stores a listed image kept until deleted when the choices are cleared', async () => {
    const { page } = tab;
    await page.getByLabel('Unlisted').uncheck();
    await page.getByLabel('Expires').selectOption('');
    await page.getByLabel('Views').fill('');
    await uploadFromPicker('public.jpg');
    const image = await stored('public.jpg');
    assert.ok(image);
    assert.deepEqual([image.unlisted, image.expiresAt, image.maxViews], [false, null, null]);
    assert.equal((await listedIds(s.url)).has(image.id), true);
  });
});
