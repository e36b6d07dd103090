// The JSON API for scripts and other programs: no cookies, so no CSRF token. Its links are
// absolute (--public_url, or the address the request reached), as a client keeps them.
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/options.js';
import { BadRequest, ListingDisabled, NotFound, OEmbedFormatUnsupported } from '../errors.js';
import { bearerToken, type UploadGuards } from '../http/auth.js';
import { siteOrigin } from '../http/origin.js';
import { presenter, type PresenterOptions } from '../http/present.js';
import { pageId, Previews } from '../http/previews.js';
import { nextCursor, parseCount } from '../http/query.js';
import { storeUploads } from '../http/upload-body.js';
import type { Library } from '../library.js';
import { meRoutes } from './me.js';

const MAX_PAGE = 100;

export function apiRoutes(app: FastifyInstance, library: Library, config: Pick<Config, 'recent_count' | 'public_listing'> & PresenterOptions, guards: UploadGuards): void {
  const present = presenter(config);
  const previews = new Previews(library, config);
  // Counted first, so guessing tokens uses up the allowance too; all before the body is read.
  // One image per request: a second file part is read and discarded (a terms field may follow it).
  const upload = { config: { files: 1 }, onRequest: [...guards.limit, guards.sameSite, guards.auth.onRequest] };
  app.post('/api/images', upload, async (request, reply) => {
    const [uploaded] = await storeUploads(request, reply, library, present, guards.auth);
    return reply.code(201).header('location', uploaded.url).send(uploaded);
  });

  app.get<{ Querystring: { limit?: string; before?: string } }>('/api/images', async (request) => {
    if (!config.public_listing) throw new ListingDisabled();
    const limit = Math.min(parseCount(request.query.limit, 'limit', config.recent_count), MAX_PAGE);
    const before = request.query.before === undefined ? undefined : parseCount(request.query.before, 'before', 0);
    const images = await library.list(limit, before);
    const base = present.base(request);
    return { images: images.map((image) => present.image(image, base)), next_cursor: nextCursor(images, limit) };
  });

  meRoutes(app, library, config, present, guards.auth);

  app.get<{ Params: { id: string } }>('/api/images/:id', async (request) => present.image(await library.get(request.params.id), present.base(request)));

  // For unfurlers that embed what a page URL names (https://oembed.com): any image with a page has one.
  app.get<{ Querystring: Partial<Record<'url' | 'format' | 'maxwidth' | 'maxheight', string>> }>('/api/oembed', async (request) => {
    const { url, format = 'json', maxwidth, maxheight } = request.query;
    if (format !== 'json') throw new OEmbedFormatUnsupported(format);
    if (url === undefined || url === '') throw new BadRequest("'url' must be the link of an image page");
    const base = present.base(request);
    // Also the page on the address the request reached, when --public_url names another.
    const id = pageId(url, base) ?? pageId(url, siteOrigin(request, null));
    if (id === undefined) throw new NotFound('the url is not an image page of this site');
    const max = { width: parseCount(maxwidth, 'maxwidth', Infinity), height: parseCount(maxheight, 'maxheight', Infinity) };
    const record = await library.get(id);
    return previews.oembed(record, present.image(record, base), base, max);
  });

  // The image's delete token, or else its owner's API key.
  app.delete<{ Params: { id: string } }>('/api/images/:id', async (request, reply) => {
    const token = request.headers['x-delete-token'];
    if (typeof token !== 'string' && bearerToken(request) !== undefined) {
      await library.deleteOwned(request.params.id, (await guards.auth.user(request, 'deleting an image')).id);
    } else {
      await library.delete(request.params.id, typeof token === 'string' ? token : '');
    }
    request.log.info({ id: request.params.id }, 'image deleted');
    return reply.code(204).send();
  });
}
