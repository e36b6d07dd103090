// The recent-images grid: older pages load as the reader scrolls to the end (or presses "Older
// images"), and new uploads appear at the top. Both take the server-rendered cards of / so the
// markup, and its escaping, lives in one template; their placeholders come with them.
import { toast } from './dom.js';
import { adoptPlaceholders } from './placeholders.js';
import { fetchPage } from './server.js';

export interface Grid {
  /** Puts images uploaded since the page loaded at the top of the grid. */
  refresh(): Promise<void>;
}

const cardsOf = (page: ParentNode): HTMLElement[] => [...page.querySelectorAll<HTMLElement>('[data-grid] > li[data-id]')];

export function setUpGrid(grid: HTMLElement): Grid {
  const shown = (card: HTMLElement) => grid.querySelector(`li[data-id="${CSS.escape(card.dataset.id ?? '')}"]`) !== null;
  const more = document.querySelector<HTMLAnchorElement>('[data-more]');
  // Infinite scroll: start loading a screen before the reader reaches the end.
  const nearEnd = new IntersectionObserver((entries) => {
    if (entries.some((entry) => entry.isIntersecting)) void loadMore();
  }, { rootMargin: '0px 0px 100% 0px' });
  let loading = false;

  async function loadMore(): Promise<void> {
    if (!more || loading) return;
    loading = true;
    more.setAttribute('aria-busy', 'true');
    try {
      const page = await fetchPage(more.href);
      const older = cardsOf(page).filter((card) => !shown(card));
      adoptPlaceholders(page, older);
      grid.append(...older);
      const next = page.querySelector<HTMLAnchorElement>('[data-more]');
      if (next) more.setAttribute('href', next.getAttribute('href') ?? ''); else more.parentElement?.remove();
      // Observing afresh reports the link again if it is still in reach after this page.
      nearEnd.unobserve(more);
      if (next) nearEnd.observe(more);
    } catch (err) {
      toast(`Could not load older images: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      loading = false;
      more.removeAttribute('aria-busy');
    }
  }

  if (more) {
    more.addEventListener('click', (event) => { event.preventDefault(); void loadMore(); });
    nearEnd.observe(more);
  }

  return {
    async refresh() {
      const page = await fetchPage('/');
      const fresh = cardsOf(page).filter((card) => !shown(card));
      if (fresh.length === 0) return;
      adoptPlaceholders(page, fresh);
      grid.prepend(...fresh);
      document.querySelector<HTMLElement>('[data-empty]')?.remove();
    },
  };
}
