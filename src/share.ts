// The links and embed snippets people copy to share an image. Pure, so the image page (server)
// and the upload page's script (browser bundle) build exactly the same text.

export interface Shareable {
  id: string;
  name: string | null;
  url: string;
  thumb_url: string;
  page_url: string;
}

export interface ShareLinks {
  page: string;
  direct: string;
  thumb: string;
  markdown: string;
  html: string;
  bbcode: string;
}

/** The text an image is described by: its file name, or a neutral label when it has none. */
export const altText = (image: Pick<Shareable, 'id' | 'name'>): string => image.name ?? `image ${image.id}`;

const escapeHtml = (text: string): string => text
  .replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;')
  .replaceAll('"', '&quot;').replaceAll("'", '&#39;');

// Brackets would end the link text early; line breaks would end the paragraph.
const escapeMarkdown = (text: string): string => text.replace(/[\\[\]]/g, '\\$&').replace(/[\r\n]+/g, ' ');

/** Absolute links and snippets, given the origin (`https://host`) the site is reached at. */
export function shareLinks(image: Shareable, origin: string): ShareLinks {
  const page = origin + image.page_url, direct = origin + image.url, thumb = origin + image.thumb_url;
  const alt = altText(image);
  return {
    page,
    direct,
    thumb,
    markdown: `![${escapeMarkdown(alt)}](${direct})`,
    html: `<a href="${escapeHtml(page)}"><img src="${escapeHtml(direct)}" alt="${escapeHtml(alt)}"></a>`,
    bbcode: `[url=${page}][img]${direct}[/img][/url]`,
  };
}
