// The page of one image: copy buttons beside each share link, and a delete button when this
// browser holds the image's delete token.
import { copyText } from './copy.js';
import { toast } from './dom.js';
import { deleteImage } from './server.js';
import { deleteTokenOf, forgetDeleteToken } from './tokens.js';

export function setUpImagePage(article: HTMLElement): void {
  for (const button of article.querySelectorAll<HTMLButtonElement>('button[data-copy]')) {
    const input = document.getElementById(button.dataset.copy ?? '');
    if (!(input instanceof HTMLInputElement)) continue;
    const label = input.labels?.[0]?.textContent ?? 'link';
    button.hidden = false;
    button.addEventListener('click', () => { void copyText(input.value, label, input); });
  }

  const id = article.dataset.image ?? '';
  const token = deleteTokenOf(id);
  const panel = article.querySelector<HTMLElement>('[data-delete]');
  const button = panel?.querySelector('button');
  if (token === null || !panel || !button) return;
  panel.hidden = false;
  button.addEventListener('click', () => {
    if (!confirm('Delete this image for everyone? This cannot be undone.')) return;
    button.disabled = true;
    deleteImage(id, token).then(() => {
      forgetDeleteToken(id);
      location.assign('/');
    }, (err: unknown) => {
      button.disabled = false;
      toast(`Not deleted: ${err instanceof Error ? err.message : String(err)}`);
    });
  });
}
