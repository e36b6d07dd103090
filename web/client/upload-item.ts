// One file in the upload list: its name and a real progress bar while it is sent, then its
// thumbnail and links (also to each named size), or the server's message with a retry button.
import { formatBytes } from '../../src/bytes.js';
import { altText, shareLinks } from '../../src/share.js';
import { copyText } from './copy.js';
import { el } from './dom.js';
import type { UploadedJson } from '../../src/http/present.js';
import type { ServerError } from './server.js';

export class UploadItem {
  readonly node: HTMLLIElement;
  private readonly progress: HTMLProgressElement;
  private readonly status: HTMLElement;
  private readonly body: HTMLElement;

  constructor(private readonly file: File) {
    this.progress = el('progress', { max: 100, value: 0, 'aria-label': `Uploading ${file.name}` });
    this.status = el('span', { class: 'status' }, 'Waiting…');
    this.body = el('div', { class: 'body' },
      el('span', { class: 'name', title: file.name }, file.name),
      el('span', { class: 'size' }, formatBytes(file.size)),
      this.progress, this.status);
    this.node = el('li', { class: 'upload-item', 'data-state': 'waiting' }, el('div', { class: 'preview' }), this.body);
  }

  /** `sent` is the fraction of the file the server has received, from 0 to 1. */
  sending(sent: number): void {
    const percent = Math.round(sent * 100);
    this.progress.value = percent;
    this.setState(sent < 1 ? 'uploading' : 'processing', sent < 1 ? `Uploading… ${String(percent)}%` : 'Making the thumbnail…');
  }

  done(image: UploadedJson): void {
    const links = shareLinks(image);
    // The thumbnail is an animation's still first frame: it plays from its smallest size instead.
    const animation = image.animated ? Object.values(image.variants)[0] : undefined;
    const preview = el('img', {
      src: animation ?? image.thumb_url, width: image.thumb.width, height: image.thumb.height, alt: altText(image),
    });
    this.node.querySelector('.preview')?.replaceChildren(el('a', { href: image.page_url, tabindex: -1 }, preview));
    const copy = (label: string, text: string, what: string) => {
      const button = el('button', { type: 'button', class: 'secondary' }, label);
      button.addEventListener('click', () => { void copyText(text, what); });
      return button;
    };
    this.progress.remove();
    this.setState('done', `${String(image.width)}×${String(image.height)} ${image.format.toUpperCase()}`);
    this.body.append(el('div', { class: 'actions' },
      el('a', { class: 'button', href: image.page_url }, 'Open'),
      copy('Copy link', links.direct, 'direct link'),
      copy('Copy Markdown', links.markdown, 'Markdown')));
    // The direct link to each named size, as the image page's share panel offers them.
    const sizes = Object.entries(links.sizes).flatMap(([name, url]) => [' ', el('a', { href: url, title: `The ${name} size` }, name)]);
    if (sizes.length > 0) this.body.append(el('p', { class: 'sizes' }, 'Sizes:', ...sizes));
  }

  /** Shows why the file was refused; `retry`, when given, lets the person try again. */
  failed(error: ServerError | Error, retry?: () => void): void {
    this.progress.remove();
    const busy = 'retryAfter' in error && error.retryAfter !== null;
    const hint = busy ? ` Try again in ${String(error.retryAfter)} s.` : '';
    this.setState('error', '');
    this.status.replaceChildren(el('span', { class: 'error', role: 'alert' }, `${error.message}.${hint}`));
    if (retry) {
      const button = el('button', { type: 'button', class: 'secondary' }, 'Retry');
      button.addEventListener('click', () => { this.node.remove(); retry(); });
      this.status.append(' ', button);
    }
  }

  private setState(state: string, text: string): void {
    this.node.dataset.state = state;
    this.status.textContent = text;
  }

  get name(): string { return this.file.name; }
}
