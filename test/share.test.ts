// The share links and snippets (src/share.ts, also bundled into the page script): whatever the file
// name or the site's address holds, each snippet keeps its own structure, and says what it links.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { altText, shareLinks, type Shareable } from '../src/share.js';

const ORIGIN = 'https://img.example.com';
/** An image as the API gives it, its links on `base`. */
const image = (name: string | null, base = ORIGIN, id = 'AbCdEfGhIjKlMnOp'): Shareable =>
  ({ id, name, url: `${base}/imgs/${id}/orig`, thumb_url: `${base}/imgs/${id}/thumb`, page_url: `${base}/i/${id}`, variants: { small: `${base}/imgs/${id}/small` } });

/** What CommonMark makes of `![alt](url)`: the alt text unescaped and the destination, or null if it is no image. */
function parseMarkdownImage(snippet: string): { alt: string; url: string } | null {
  const match = /^!\[((?:\\.|[^\\[\]])*)\]\(([^\s()<>]*)\)$/.exec(snippet);
  return match ? { alt: (match[1] ?? '').replace(/\\(.)/g, '$1'), url: match[2] ?? '' } : null;
}

/** BBCode's structure: exactly the four tags, with nothing bracketed inside their values. */
function parseBbcode(snippet: string): { page: string; direct: string } | null {
  const match = /^\[url=([^[\]]*)\]\[img\]([^[\]]*)\[\/img\]\[\/url\]$/.exec(snippet);
  return match ? { page: match[1] ?? '', direct: match[2] ?? '' } : null;
}

const NASTY_NAMES = [
  'plain.png',
  'a](https://evil.example/x.png)![b.png',
  'brackets [1] and (parens).png',
  'back\\slash\\].png',
  '[url=https://evil.example][img]https://evil.example/x[/img][/url].png',
  '<img src=x onerror=alert(1)>.png',
  '"quoted" & \'single\'.png',
  '*bold* _em_ `code` ~strike~ | cell # head.png',
  '&lt;entity&gt;.png',
  'line\nbreak\r\nand\u2028separator.png',
  'cute\u202Egnp.exe',
  '\u2066isolated\u2069\u200Fmarks\u200E.png',
];

describe('share links', () => {
  it('gives the image\'s own page, direct, thumbnail and size links', () => {
    const links = shareLinks(image('a.png'));
    assert.equal(links.page, `${ORIGIN}/i/AbCdEfGhIjKlMnOp`);
    assert.equal(links.direct, `${ORIGIN}/imgs/AbCdEfGhIjKlMnOp/orig`);
    assert.equal(links.thumb, `${ORIGIN}/imgs/AbCdEfGhIjKlMnOp/thumb`);
    assert.deepEqual(links.sizes, { small: `${ORIGIN}/imgs/AbCdEfGhIjKlMnOp/small` });
    assert.equal(links.markdown, `![a.png](${ORIGIN}/imgs/AbCdEfGhIjKlMnOp/orig)`);
    assert.equal(links.bbcode, `[url=${ORIGIN}/i/AbCdEfGhIjKlMnOp][img]${ORIGIN}/imgs/AbCdEfGhIjKlMnOp/orig[/img][/url]`);
  });

  for (const name of NASTY_NAMES) {
    it(`keeps every snippet whole for the name ${JSON.stringify(name)}`, () => {
      const links = shareLinks(image(name));
      const markdown = parseMarkdownImage(links.markdown);
      assert.ok(markdown, `Markdown lost its structure: ${links.markdown}`);
      assert.equal(markdown.url, links.direct);
      assert.equal(markdown.alt, altText(image(name)));
      assert.doesNotMatch(links.markdown, /[\n\r\u2028\u2029]/);
      assert.deepEqual(parseBbcode(links.bbcode), { page: links.page, direct: links.direct });
      const html = /^<a href="([^"<>]*)"><img src="([^"<>]*)" alt="([^"<>]*)"><\/a>$/.exec(links.html);
      assert.ok(html, `HTML lost its structure: ${links.html}`);
      const unescaped = (html[3] ?? '').replaceAll('&quot;', '"').replaceAll('&#39;', "'").replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&');
      assert.equal(unescaped, altText(image(name)));
    });
  }

  it('strips bidi controls from the alt text, so a name cannot disguise its extension', () => {
    assert.equal(altText(image('cute\u202Egnp.exe')), 'cutegnp.exe');
    assert.equal(altText(image('\u2066a\u2069\u200F.png')), 'a.png');
    for (const name of NASTY_NAMES) {
      const links = shareLinks(image(name));
      for (const text of [links.markdown, links.html, links.bbcode]) assert.doesNotMatch(text, /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/);
    }
  });

  it('turns line breaks into spaces and labels a name of nothing but controls as the image', () => {
    assert.equal(altText(image('line\nbreak\r\nand\u2028separator.png')), 'line break and separator.png');
    assert.equal(altText(image('\u202E\u202C')), 'image AbCdEfGhIjKlMnOp');
    assert.equal(altText(image(null)), 'image AbCdEfGhIjKlMnOp');
  });

  it('escapes a base path with parentheses, spaces or brackets for Markdown and BBCode, and keeps an IPv6 host', () => {
    const links = shareLinks(image('a.png', 'https://[2001:db8::1]:8443/my (pics) [old]'));
    assert.deepEqual(parseMarkdownImage(links.markdown), { alt: 'a.png', url: 'https://[2001:db8::1]:8443/my%20%28pics%29%20[old]/imgs/AbCdEfGhIjKlMnOp/orig' });
    assert.match(links.bbcode, /^\[url=https:\/\/\[2001:db8::1\]:8443\/my%20\(pics\)%20%5Bold%5D\/i\/AbCdEfGhIjKlMnOp\]\[img\]/);
    assert.match(links.html, /href="https:\/\/\[2001:db8::1\]:8443\/my \(pics\) \[old\]\/i\//);
  });
});
