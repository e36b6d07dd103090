// The links and embed snippets people copy to share an image. Pure, so the image page (server)
// and the upload page's script (browser bundle) build exactly the same text. Each snippet escapes
// what it embeds for its own syntax, so no file name or URL can end a link early or add markup.

/** An image as the API gives it: its links absolute. */
export interface Shareable {
  id: string;
  name: string | null;
  url: string;
  thumb_url: string;
  page_url: string;
  /** Variant name -> URL, as in the image JSON. */
  variants: Readonly<Record<string, string>>;
}

export interface ShareLinks {
  page: string;
  direct: string;
  thumb: string;
  /** A direct link to each named size, smallest first. */
  sizes: Record<string, string>;
  markdown: string;
  html: string;
  bbcode: string;
}

// Characters that reorder the text shown around them (RLO and friends): a name like
// "cute\u202Egnp.exe" would otherwise read as "cuteexe.png".
const BIDI_CONTROLS = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/g;
// C0 and C1 controls and the Unicode line and paragraph separators: each would end a line.
const LINE_BREAKERS = /[\p{Cc}\u2028\u2029]+/gu;

/** The text an image is described by: its file name without bidi controls, or a neutral label when it has none. */
export const altText = (image: Pick<Shareable, 'id' | 'name'>): string => {
  const name = image.name?.replace(BIDI_CONTROLS, '').replace(LINE_BREAKERS, ' ').trim();
  return name === undefined || name === '' ? `image ${image.id}` : name;
};

const escapeHtml = (text: string): string => text
  .replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;')
  .replaceAll('"', '&quot;').replaceAll("'", '&#39;');

// CommonMark lets a backslash escape any ASCII punctuation, which then stands for itself: no
// bracket ends the link text, no `<` starts HTML, no `*`, `_`, `~` or backtick emphasis or code,
// no `&` an entity, no `|` a table cell (GitHub).
const escapeMarkdown = (text: string): string => text.replace(/[\\[\]()<>*_`~&!|#]/g, '\\$&');

const percentEncode = (char: string): string =>
  Array.from(new TextEncoder().encode(char), (byte) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`).join('');

/**
 * `url` with the characters matched by `unsafe` percent-encoded (which names the same resource)
 * everywhere after the authority: an IPv6 host keeps its brackets, which are part of its syntax.
 */
function encodeAfterAuthority(url: string, unsafe: RegExp): string {
  const scheme = url.indexOf('://');
  const pathStart = scheme === -1 ? 0 : url.indexOf('/', scheme + 3);
  if (pathStart === -1) return url;
  return url.slice(0, pathStart) + url.slice(pathStart).replace(unsafe, percentEncode);
}

// Parentheses and spaces end a Markdown link destination; angle brackets and backslashes change it.
const markdownUrl = (url: string): string => encodeAfterAuthority(url, /[\s()<>\\"'\p{Cc}]/gu);
// A bracket ends a BBCode tag.
const bbcodeUrl = (url: string): string => encodeAfterAuthority(url, /[[\]\s]/g);

/** The links and snippets of an image whose links are absolute. */
export function shareLinks(image: Shareable): ShareLinks {
  const { page_url: page, url: direct, thumb_url: thumb } = image;
  const alt = altText(image);
  return {
    page,
    direct,
    thumb,
    sizes: { ...image.variants },
    markdown: `![${escapeMarkdown(alt)}](${markdownUrl(direct)})`,
    html: `<a href="${escapeHtml(page)}"><img src="${escapeHtml(direct)}" alt="${escapeHtml(alt)}"></a>`,
    bbcode: `[url=${bbcodeUrl(page)}][img]${bbcodeUrl(direct)}[/img][/url]`,
  };
}
