// "My uploads" on the upload page in a real browser: a user's API key typed into the token field
// shows their usage and their own images (an upload from the page joins them), never another
// user's; older ones load on demand, and the key is remembered for the next visit.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addUser, bearer, type TestUser } from '../helpers/accounts.js';
import { screenshot, type Tab, uploadPageSuite } from '../helpers/browser.js';
import { photo, solid } from '../helpers/images.js';
import type { TestServer } from '../helpers/server.js';

describe('"My uploads" on the upload page in Chromium', () => {
  let s: TestServer;
  let tab: Tab;
  let alice: TestUser, bob: TestUser;
  let bobsImage: string;
  uploadPageSuite({ uploads: 'users', max_uploads_per_client: 0 }, async (server, opened) => {
    [s, tab] = [server, opened];
    const { accounts } = s.server.library.repo;
    [alice, bob] = [await addUser(accounts, 'alice', { quotaBytes: 10 << 20 }), await addUser(accounts, 'bob')];
    bobsImage = (await s.uploadOk(await solid(20, 20, '#c03030'), { headers: bearer(bob.key) })).id;
  });

  const mine = () => tab.page.locator('[data-mine]');
  const shownIds = async (): Promise<string[]> =>
    tab.page.locator('[data-mine-grid] > li').evaluateAll((cards) => cards.map((card) => (card as HTMLElement).dataset.id ?? ''));
  const typeKey = async (key: string): Promise<void> => {
    await tab.page.getByLabel('Upload token or API key').fill(key);
    await tab.page.getByLabel('Upload token or API key').dispatchEvent('change');
  };

  it('shows nothing until a user\'s key is typed, then their usage against their quota', async () => {
    assert.equal(await mine().isHidden(), true);
    await typeKey('ihk_not-a-key');
    await tab.page.waitForTimeout(300);
    assert.equal(await mine().isHidden(), true, 'a key that is no one\'s shows nothing');
    await typeKey(alice.key);
    await tab.page.locator('[data-mine-usage]', { hasText: 'alice: 0 images, 0 B of 10 MiB' }).waitFor({ timeout: 15_000 });
    assert.deepEqual(await shownIds(), []);
  });

  it('adds an upload from the page to the list, owned by the key\'s user, and never shows another user\'s images', async () => {
    const { page } = tab;
    await page.locator('input[type="file"]').setInputFiles({ name: 'mine.jpg', mimeType: 'image/jpeg', buffer: await photo(60, 40) });
    await page.locator('[data-mine-grid] > li').first().waitFor({ timeout: 15_000 });
    const [id = ''] = await shownIds();
    assert.equal((await s.server.library.get(id)).owner, alice.id);
    await page.locator('[data-mine-usage]', { hasText: /^alice: 1 image, .+ of 10 MiB$/ }).waitFor({ timeout: 15_000 });
    assert.equal((await shownIds()).includes(bobsImage), false);
    await screenshot(page, 'my-uploads');
  });

  it('loads older uploads on demand, and remembers the key for the next visit', async () => {
    const carol = await addUser(s.server.library.repo.accounts, 'carol');
    const uploaded: string[] = [];
    for (let i = 0; i < 25; i++) uploaded.unshift((await s.uploadOk(await solid(8, 8, `#0000${String(10 + i)}`), { headers: bearer(carol.key) })).id);
    await typeKey(carol.key);
    await tab.page.locator('[data-mine-usage]', { hasText: 'carol: 25 images' }).waitFor({ timeout: 15_000 });
    assert.deepEqual(await shownIds(), uploaded.slice(0, 24));
    await tab.page.getByRole('button', { name: 'Older uploads' }).click();
    await tab.page.locator('[data-mine-grid] > li').nth(24).waitFor({ timeout: 15_000 });
    assert.deepEqual(await shownIds(), uploaded);
    assert.equal(await tab.page.locator('[data-mine-more]').isHidden(), true);

    await tab.page.reload();
    await tab.page.locator('[data-mine-usage]', { hasText: 'carol: 25 images' }).waitFor({ timeout: 15_000 });
  });
});

describe('the optional key field on a server open to all, in Chromium', () => {
  let s: TestServer;
  let tab: Tab;
  let dana: TestUser;
  uploadPageSuite({ max_uploads_per_client: 0 }, async (server, opened) => {
    [s, tab] = [server, opened];
    dana = await addUser(s.server.library.repo.accounts, 'dana');
  });

  const field = () => tab.page.getByLabel(/^Your API key/);
  const upload = async (name: string, color: string): Promise<void> => {
    await tab.page.locator('input[type="file"]').setInputFiles({ name, mimeType: 'image/png', buffer: await solid(12, 12, color) });
  };

  it('offers an API key field that may stay empty: an upload without a key is anonymous', async () => {
    assert.equal(await field().isVisible(), true);
    assert.equal(await field().evaluate((input) => (input as HTMLInputElement).required), false);
    assert.equal(await tab.page.locator('[data-mine]').isHidden(), true);
    await upload('nobodys.png', '#305070');
    await tab.page.locator('[data-grid] > li').first().waitFor({ timeout: 15_000 });
    const [image] = await s.server.library.list(1);
    assert.equal(image?.owner, null);
  });

  it('shows My uploads once a user\'s key is typed, and uploads as that user', async () => {
    await field().fill(dana.key);
    await field().dispatchEvent('change');
    await tab.page.locator('[data-mine-usage]', { hasText: 'dana: 0 images' }).waitFor({ timeout: 15_000 });
    await upload('danas.png', '#703050');
    await tab.page.locator('[data-mine-grid] > li').first().waitFor({ timeout: 15_000 });
    const [id = ''] = await tab.page.locator('[data-mine-grid] > li').evaluateAll((cards) => cards.map((card) => (card as HTMLElement).dataset.id ?? ''));
    assert.equal((await s.server.library.get(id)).owner, dana.id);
  });
});
