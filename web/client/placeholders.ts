// Images are painted over their placeholders, which the page's <style> block sets as their
// backgrounds (no script needed for that). Once an image has loaded, its placeholder would still
// show through the image's transparent parts: it is taken away then. Cards moved in from another
// page of the site bring their placeholders' rules along.

const withPlaceholder = (target: EventTarget | null): target is HTMLImageElement =>
  target instanceof HTMLImageElement && target.dataset.placeholder !== undefined;

// Setting a property of `style` is not an inline style the page's CSP would refuse.
const clear = (img: HTMLImageElement): void => { img.style.backgroundImage = 'none'; };

export function clearPlaceholdersOnLoad(): void {
  // Load events do not bubble, but they can be caught on their way down.
  document.addEventListener('load', (event) => { if (withPlaceholder(event.target)) clear(event.target); }, true);
  for (const img of document.querySelectorAll('img')) if (withPlaceholder(img) && img.complete && img.naturalWidth > 0) clear(img);
}

/**
 * Adds the placeholder rules of `cards`, moved in from `page` (fetched from this site), to this
 * page's own <style> block, which its nonce admits; one line per image, so only theirs are taken.
 */
export function adoptPlaceholders(page: ParentNode, cards: readonly HTMLElement[]): void {
  const ids = new Set(cards.map((card) => card.dataset.id));
  const rules = (page.querySelector('style[data-page-styles]')?.textContent ?? '').split('\n')
    .filter((rule) => ids.has(/^img\[data-placeholder="([\w-]+)"\]/.exec(rule)?.[1]));
  if (rules.length > 0) document.querySelector('style[data-page-styles]')?.append(`${rules.join('\n')}\n`);
}
