// Reading server-rendered pages the way a browser would, without a DOM: the text a reader sees,
// attribute values, and the cookies a response sets.

const entities: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

/** Replaces character references (`&lt;`, `&#39;`, `&#x27;`) with the characters they stand for. */
export function decodeEntities(text: string): string {
  return text.replace(/&(?:#(\d+)|#x([0-9a-f]+)|([a-z]+));/gi, (whole, dec?: string, hex?: string, name?: string) => {
    if (dec !== undefined) return String.fromCodePoint(Number(dec));
    if (hex !== undefined) return String.fromCodePoint(parseInt(hex, 16));
    return entities[(name ?? '').toLowerCase()] ?? whole;
  });
}

/** The text of an HTML fragment as a reader sees it: tags dropped, references decoded, spaces collapsed. */
export function textOf(html: string): string {
  return decodeEntities(html.replace(/<[^>]*>/g, ' ')).replace(/\s+/g, ' ').trim();
}

/** The decoded attributes of one start tag, e.g. `<img src="a" width="3">` → {src: 'a', width: '3'}. */
export function attributes(tag: string): Record<string, string> {
  const out: Record<string, string> = {};
  const inner = tag.replace(/^<[\w-]+/, '').replace(/\/?>$/, '');
  for (const m of inner.matchAll(/([^\s"'=<>/]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g)) {
    const [, name = '', double, single, bare] = m;
    out[name.toLowerCase()] = decodeEntities(double ?? single ?? bare ?? '');
  }
  return out;
}

/** Every start tag with the given name, in document order. */
export function tags(html: string, name: string): string[] {
  return [...html.matchAll(new RegExp(`<${name}\\b(?:[^>"']|"[^"]*"|'[^']*')*>`, 'gi'))].map((m) => m[0]);
}

/** The `name=value` pairs of a response's Set-Cookie headers, as a Cookie request header. */
export function cookieHeader(res: Response): string {
  return res.headers.getSetCookie().map((c) => c.split(';', 1)[0]?.trim() ?? '').filter((c) => c !== '').join('; ');
}
