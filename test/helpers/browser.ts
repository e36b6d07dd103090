// Debian's Chromium driven by playwright-core, for the end-to-end tests of the pages. No browser
// is downloaded: `apt-get install chromium` provides /usr/bin/chromium (scripts/test-deps.sh).
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { chromium, type Browser, type BrowserContextOptions, type FileChooser, type Page } from 'playwright-core';
import type { Config } from '../../src/config/options.js';
import { root } from './cli.js';
import { startTestServer, type TestServer } from './server.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Where the tests save their screenshots; docs/screenshots holds a committed copy. */
export const screenshotDir = join(root, 'test-output/screenshots');

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    // The machine has no route out: without these Chromium keeps trying to reach Google's hosts.
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic'],
  });
}

export const phone: BrowserContextOptions = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };
export const desktop: BrowserContextOptions = { viewport: { width: 1280, height: 800 } };

export interface Tab {
  page: Page;
  /** Script errors and Content-Security-Policy violations: a test asserts there were none. */
  errors: Error[];
}

/** A page in a fresh browser context (own cookies and localStorage) on `baseURL`. */
export async function openTab(browser: Browser, baseURL: string, options: BrowserContextOptions = desktop): Promise<Tab> {
  const context = await browser.newContext({ baseURL, ...options });
  const page = await context.newPage();
  const errors: Error[] = [];
  page.on('pageerror', (err) => { errors.push(err); });
  page.on('console', (message) => {
    if (message.type() === 'error' && message.text().includes('Content Security Policy')) errors.push(new Error(message.text()));
  });
  return { page, errors };
}

/**
 * For the suite it is called in: a test server with `overrides` and the upload page open on it
 * in Chromium, handed to `opened` (which may prepare the server) before the page loads; after
 * the suite, the page must have raised no script errors, and both are closed.
 */
export function uploadPageSuite(overrides: Partial<Config>, opened: (s: TestServer, tab: Tab) => Promise<void> | void): void {
  let browser: Browser | undefined;
  let site: { s: TestServer; tab: Tab } | undefined;
  before(async () => {
    const [s, launched] = await Promise.all([startTestServer(overrides), launchBrowser()]);
    browser = launched;
    site = { s, tab: await openTab(browser, s.url) };
    await opened(site.s, site.tab);
    await site.tab.page.goto('/');
  });
  after(async () => {
    if (site) assert.deepEqual(site.tab.errors, [], 'the page raised no script errors');
    await browser?.close();
    await site?.s.close();
  });
}

/**
 * Presses Space on the focused file input and returns the file chooser it opens. Headless
 * Chromium now and then drops the first activation of a freshly focused picker, so a press that
 * opens nothing is repeated, as a person would: three presses that all fail are a real failure.
 */
export async function openPickerByKeyboard(page: Page): Promise<FileChooser> {
  for (let attempt = 1; ; attempt++) {
    const chooser = page.waitForEvent('filechooser', { timeout: 3000 });
    await page.keyboard.press('Space');
    try {
      return await chooser;
    } catch (err) {
      if (attempt === 3) throw err;
    }
  }
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(screenshotDir, { recursive: true });
  await page.screenshot({ path: join(screenshotDir, `${name}.png`), fullPage: true });
}
