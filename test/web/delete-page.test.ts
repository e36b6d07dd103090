// The deletion link in a real browser: opened from wherever the uploader kept it, one click on
// Delete removes the image, with nothing but the page itself (its form and CSRF cookie).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchBrowser, openTab } from '../helpers/browser.js';
import { photo } from '../helpers/images.js';
import { startTestServer, type TestServer, type UploadedImage } from '../helpers/server.js';

describe('the deletion link in Chromium', () => {
  let s: TestServer;
  let browser: Browser;
  before(async () => {
    [s, browser] = await Promise.all([startTestServer(), launchBrowser()]);
  });
  after(async () => {
    await browser.close();
    await s.close();
  });

  it('shows the image, and clicking Delete deletes it', async () => {
    const image = await s.uploadOk(await photo(200, 150, 'jpeg'), { filename: 'to go.jpg' }) as UploadedImage & { delete_url: string };
    const { page, errors } = await openTab(browser, s.url);
    await page.goto(image.delete_url);
    await page.getByRole('heading', { name: 'Delete this image?' }).waitFor();
    assert.equal(await page.getByRole('img', { name: 'to go.jpg' }).evaluate((img: HTMLImageElement) => img.naturalWidth > 0), true);
    assert.equal((await s.fetch(`/imgs/${image.id}/orig`)).status, 200, 'opening the link deletes nothing');

    await page.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('heading', { name: 'Image deleted' }).waitFor();
    assert.equal((await s.fetch(`/imgs/${image.id}/orig`)).status, 404);
    assert.deepEqual(errors, []);
  });
});
