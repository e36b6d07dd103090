// Each image's placeholder painted behind it until it arrives, without script: one CSS rule per
// image in the page's own <style> block, which the page's CSP admits by its nonce. A style
// attribute would need style-src 'unsafe-inline', which would admit any injected style as well.
import { LRUCache } from 'lru-cache';
import { isId } from '../ids.js';
import { placeholderDataUrl } from '../images/placeholder.js';
import type { ImageJson } from './present.js';

/** Rendered placeholders kept: a few hundred bytes each, and the grid shows the same ones again and again. */
const CACHED = 4096;

export class PlaceholderStyles {
  /** ThumbHash -> `data:` URL, or '' for a value that does not decode. */
  private readonly urls = new LRUCache<string, string>({ max: CACHED });

  /** The CSS giving each `img[data-placeholder="<id>"]` its image's placeholder as background. */
  async css(images: readonly Pick<ImageJson, 'id' | 'placeholder'>[]): Promise<string> {
    const rules = await Promise.all(images.map(async ({ id, placeholder }) => {
      if (placeholder === null || !isId(id)) return '';
      const url = await this.url(placeholder);
      // An id is base64url and the URL base64: neither can end the string, the rule or the element.
      return url === '' ? '' : `img[data-placeholder="${id}"]{background-image:url("${url}")}\n`;
    }));
    return rules.join('');
  }

  private async url(placeholder: string): Promise<string> {
    let url = this.urls.get(placeholder);
    if (url === undefined) {
      url = await placeholderDataUrl(placeholder) ?? '';
      this.urls.set(placeholder, url);
    }
    return url;
  }
}
