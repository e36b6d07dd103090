// "My uploads": when the token field holds a user's API key, the page shows that user's usage and
// their own images, listed or not, newest first, from GET /api/me and /api/me/images; older ones
// on demand. A shared upload token, or no key, shows nothing.
import { formatBytes } from '../../src/bytes.js';
import type { ImageJson } from '../../src/http/present.js';
import { el, toast } from './dom.js';

const PAGE = 24;

interface Me { user: string; usage: { bytes: number; images: number }; quota: { bytes: number | null; images: number | null } }
interface Page { images: ImageJson[]; next_cursor: string | null }

export interface MyUploads {
  /** Shows the uploads of the key now in the token field (or hides the section). */
  refresh(): Promise<void>;
}

const usageText = ({ user, usage, quota }: Me): string => {
  const count = quota.images ?? usage.images;
  const images = `${String(usage.images)}${quota.images === null ? '' : ` of ${String(quota.images)}`} image${count === 1 ? '' : 's'}`;
  const bytes = `${formatBytes(usage.bytes)}${quota.bytes === null ? '' : ` of ${formatBytes(quota.bytes)}`}`;
  return `${user}: ${images}, ${bytes}`;
};

const card = (image: ImageJson): HTMLElement => el('li', { 'data-id': image.id },
  el('a', { href: image.page_url, title: image.name ?? image.id },
    el('img', { src: image.thumb_url, width: image.thumb.width, height: image.thumb.height, loading: 'lazy', alt: image.name ?? `image ${image.id}` })));

export function setUpMyUploads(section: HTMLElement, keyInput: HTMLInputElement): MyUploads {
  const usage = section.querySelector<HTMLElement>('[data-mine-usage]');
  const grid = section.querySelector<HTMLElement>('[data-mine-grid]');
  // The row is hidden rather than the button, whose display the page's style sets.
  const moreRow = section.querySelector<HTMLElement>('[data-mine-more]');
  let cursor: string | null = null;
  /** Each refresh supersedes the one before: a slow answer for an old key is dropped. */
  let generation = 0;
  /** The key whose uploads are shown: the field's change events (a blur commits one) reload only for another key. */
  let shownKey: string | null = null;

  const get = async <T>(path: string, key: string): Promise<T | null> => {
    const res = await fetch(path, { headers: { authorization: `Bearer ${key}`, accept: 'application/json' } });
    if (res.status === 401) return null;
    if (!res.ok) throw new Error(`the server answered ${String(res.status)}`);
    return await res.json() as T;
  };

  const showPage = (page: Page): void => {
    grid?.append(...page.images.map(card));
    cursor = page.next_cursor;
    if (moreRow) moreRow.hidden = cursor === null;
  };

  async function refresh(): Promise<void> {
    const mine = ++generation;
    const key = keyInput.value.trim();
    shownKey = key;
    try {
      const [me, page] = key === ''
        ? [null, null]
        : await Promise.all([get<Me>('/api/me', key), get<Page>(`/api/me/images?limit=${String(PAGE)}`, key)]);
      if (mine !== generation) return;
      section.hidden = me === null || page === null;
      grid?.replaceChildren();
      if (me === null || page === null) return;
      if (usage) usage.textContent = usageText(me);
      showPage(page);
    } catch (err) {
      toast(`Could not load your uploads: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  moreRow?.querySelector('button')?.addEventListener('click', () => {
    const key = keyInput.value.trim();
    if (cursor === null) return;
    void get<Page>(`/api/me/images?limit=${String(PAGE)}&before=${cursor}`, key).then((page) => { if (page) showPage(page); },
      (err: unknown) => { toast(`Could not load older uploads: ${err instanceof Error ? err.message : String(err)}`); });
  });
  keyInput.addEventListener('change', () => { if (keyInput.value.trim() !== shownKey) void refresh(); });
  return { refresh };
}
