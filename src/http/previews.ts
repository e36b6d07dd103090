// What link unfurlers (chat apps, forums, social sites) read about an image page: its Open Graph
// and Twitter card tags, and its oEmbed answer. Both point at a rendition every unfurler decodes:
// never AVIF, and from the named sizes, at most about 1200 px a side when one is that small.
// A named size's dimensions are those of the rendition the URL serves, made now if need be:
// libvips' shrink-on-load can make its short side a pixel off any formula.
import type { Config } from '../config/options.js';
import { AppError, NotFound } from '../errors.js';
import type { Library } from '../library.js';
import type { ImageRecord } from '../repo/index.js';
import { altText } from '../share.js';
import { parseVariants } from '../variants/spec.js';
import { fitInside, type ImageJson } from './present.js';

export const SITE_NAME = 'imghost';
/** Facebook, X and LinkedIn show previews up to 1200 px wide; larger only costs their fetch time. */
const PREVIEW_SIZE = 1200;
/** The formats every unfurler decodes. */
const UNFURLABLE = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp']);

/** One rendition an unfurler may show, with the size its URL serves. */
export interface Picture { url: string; width: number; height: number; mime: string }

/** A rendition that may still have to be made: its size before then is `fitInside`'s, the long side exact. */
interface Candidate extends Picture { served: () => Promise<Picture> }

/** A `<meta>` of the page's head: Open Graph reads `property`, Twitter cards `name`. */
export interface MetaTag { attribute: 'property' | 'name'; key: string; content: string }

export interface PreviewHead { meta: MetaTag[]; oembed: string; title: string }

export interface OEmbedJson {
  version: '1.0'; type: 'photo'; url: string; width: number; height: number; title: string;
  provider_name: string; provider_url: string;
  thumbnail_url?: string; thumbnail_width?: number; thumbnail_height?: number;
}

/** Infinity leaves that side unbounded. */
export interface MaxSize { width: number; height: number }

// The record does not say whether an image has alpha, so only a JPEG is sure to lose nothing as
// JPEG; other stills are asked for as PNG (which keeps alpha), and animations as GIF, which
// keeps their frames and which every unfurler plays.
function unfurlableKind({ format, animated }: ImageJson): { extension: string; mime: string } {
  if (animated || format === 'gif') return { extension: 'gif', mime: 'image/gif' };
  return format === 'jpeg' ? { extension: 'jpg', mime: 'image/jpeg' } : { extension: 'png', mime: 'image/png' };
}

const longest = (picture: Picture) => Math.max(picture.width, picture.height);
const fits = (picture: Picture, max: MaxSize) => picture.width <= max.width && picture.height <= max.height;
const exact = (picture: Picture): Candidate => ({ ...picture, served: () => Promise.resolve(picture) });

/** The image's title for unfurlers: its file name, or a label naming its id. */
export const titleOf = (image: ImageJson): string => (image.name === null ? `Image ${image.id}` : altText(image));

export class Previews {
  private readonly sizes: ReadonlyMap<string, number>;

  constructor(private readonly library: Pick<Library, 'variant' | 'variants'>, config: Pick<Config, 'variants'>) {
    this.sizes = parseVariants(config.variants);
  }

  /**
   * The picture of link previews: the largest named size at most 1200 px a side (the smallest
   * when every one is larger); without named sizes, or when that size cannot be made now (a
   * full work pool), the original when unfurlers decode it, else the thumbnail when they do;
   * undefined when none is.
   */
  async preview(record: ImageRecord, image: ImageJson): Promise<Picture | undefined> {
    const variants = this.variants(record, image);
    const fallback = [this.original(image), this.thumbnail(image)].find((p) => p !== undefined);
    const chosen = variants.filter((p) => longest(p) <= PREVIEW_SIZE).at(-1) ?? variants[0];
    if (chosen === undefined) return fallback;
    try {
      return await chosen.served();
    } catch (err) {
      // A page is not refused for its preview: a busy server previews what it already has.
      if (err instanceof AppError && !err.damage) return fallback;
      throw err;
    }
  }

  /** The Open Graph and Twitter card tags of the image's page, and the page's oEmbed link. `image`'s links are absolute on `base`. */
  async head(record: ImageRecord, image: ImageJson, base: string): Promise<PreviewHead> {
    const title = titleOf(image);
    // An unfurler fetching a view-limited image would spend its views, or show it to a whole chat.
    const picture = record.maxViews === null ? await this.preview(record, image) : undefined;
    const og = (key: string, content: string | number): MetaTag => ({ attribute: 'property', key: `og:${key}`, content: String(content) });
    const twitter = (key: string, content: string): MetaTag => ({ attribute: 'name', key: `twitter:${key}`, content });
    const pictureTags = (shown: Picture) => [
      og('image', shown.url), og('image:width', shown.width), og('image:height', shown.height),
      og('image:type', shown.mime), og('image:alt', altText(image)),
      twitter('image', shown.url), twitter('image:alt', altText(image)),
    ];
    return {
      meta: [
        og('type', 'website'), og('site_name', SITE_NAME), og('title', title), og('url', image.page_url),
        twitter('card', picture === undefined ? 'summary' : 'summary_large_image'), twitter('title', title),
        ...(picture === undefined ? [] : pictureTags(picture)),
      ],
      oembed: `${base}/api/oembed?url=${encodeURIComponent(image.page_url)}&format=json`,
      title,
    };
  }

  /**
   * The oEmbed answer (type photo): the preview picture, or with a maximum size the largest
   * rendition within it (a named size, the thumbnail or the original). NotFound when none fits.
   */
  async oembed(record: ImageRecord, image: ImageJson, base: string, max: MaxSize): Promise<OEmbedJson> {
    if (record.maxViews !== null) throw new NotFound('an image with a view limit has no preview');
    const bounded = Number.isFinite(max.width) || Number.isFinite(max.height);
    const picture = bounded ? await this.largestWithin(record, image, max) : await this.preview(record, image);
    if (picture === undefined) throw new NotFound('no rendition of the image fits within maxwidth and maxheight');
    const thumbnail = this.thumbnail(image);
    return {
      version: '1.0', type: 'photo', url: picture.url, width: picture.width, height: picture.height, title: titleOf(image),
      provider_name: SITE_NAME, provider_url: `${base}/`,
      ...(thumbnail !== undefined && fits(thumbnail, max)
        ? { thumbnail_url: thumbnail.url, thumbnail_width: thumbnail.width, thumbnail_height: thumbnail.height }
        : {}),
    };
  }

  /** The largest rendition whose served size fits `max`, trying the next smaller when a short side comes out a pixel over. */
  private async largestWithin(record: ImageRecord, image: ImageJson, max: MaxSize): Promise<Picture | undefined> {
    const candidates = [...this.variants(record, image), this.thumbnail(image), this.original(image)]
      .filter((p): p is Candidate => p !== undefined && fits(p, max))
      .sort((a, b) => b.width * b.height - a.width * a.height);
    for (const candidate of candidates) {
      const served = await candidate.served();
      if (fits(served, max)) return served;
    }
    return undefined;
  }

  /** The named sizes, smallest first, each with the extension that fixes an unfurlable format. */
  private variants(record: ImageRecord, image: ImageJson): Candidate[] {
    const { extension, mime } = unfurlableKind(image);
    return Object.entries(image.variants)
      .flatMap(([name, url]) => {
        const box = this.sizes.get(name);
        if (box === undefined) return [];
        const served = async (): Promise<Picture> => {
          const { width, height } = await this.library.variant(record, this.library.variants.request(name, extension, undefined));
          return { url: `${url}.${extension}`, mime, width, height };
        };
        return [{ url: `${url}.${extension}`, mime, ...fitInside(image, box), served }];
      })
      .sort((a, b) => longest(a) - longest(b));
  }

  private original(image: ImageJson): Candidate | undefined {
    return UNFURLABLE.has(image.mime) ? exact({ url: image.url, width: image.width, height: image.height, mime: image.mime }) : undefined;
  }

  private thumbnail(image: ImageJson): Candidate | undefined {
    const { thumb } = image;
    return UNFURLABLE.has(thumb.mime) ? exact({ url: image.thumb_url, width: thumb.width, height: thumb.height, mime: thumb.mime }) : undefined;
  }
}

/** The id of the image page `url` names, when it is a page of the site at `base`; undefined for any other URL. */
export function pageId(url: string, base: string): string | undefined {
  let page: URL;
  try {
    page = new URL(url);
  } catch {
    return undefined;
  }
  const root = new URL(`${base}/`);
  if (page.origin !== root.origin || !page.pathname.startsWith(root.pathname)) return undefined;
  return /^i\/([^/]+)$/.exec(page.pathname.slice(root.pathname.length))?.[1];
}
