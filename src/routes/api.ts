// The JSON API for scripts and other programs: no cookies, so no CSRF token.
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/options.js';
import { ListingDisabled } from '../errors.js';
import type { UploadGuards } from '../http/auth.js';
import { presenter } from '../http/present.js';
import { nextCursor, parseCount } from '../http/query.js';
import { storeUploads } from '../http/upload-body.js';
import type { Library } from '../library.js';

const MAX_PAGE = 100;

export function apiRoutes(app: FastifyInstance, library: Library, config: Pick<Config, 'recent_count' | 'public_listing' | 'variants' | 'thumb_size'>, guards: UploadGuards): void {
  const present = presenter(config);
  // Counted first, so guessing tokens uses up the allowance too; all before the body is read.
  // One image per request: a second file part is left unread.
  const upload = { config: { files: 1 }, onRequest: [...guards.limit, guards.sameSite, guards.auth.onRequest] };
  app.post('/api/images', upload, async (request, reply) => {
    const [uploaded] = await storeUploads(request, reply, library, present);
    return reply.code(201).header('location', uploaded.url).send(uploaded);
  });

  app.get<{ Querystring: { limit?: string; before?: string } }>('/api/images', async (request) => {
    if (!config.public_listing) throw new ListingDisabled();
    const limit = Math.min(parseCount(request.query.limit, 'limit', config.recent_count), MAX_PAGE);
    const before = request.query.before === undefined ? undefined : parseCount(request.query.before, 'before', 0);
    const images = await library.list(limit, before);
    return { images: images.map(present.image), next_cursor: nextCursor(images, limit) };
  });

  app.get<{ Params: { id: string } }>('/api/images/:id', async (request) => present.image(await library.get(request.params.id)));

  app.delete<{ Params: { id: string } }>('/api/images/:id', async (request, reply) => {
    const token = request.headers['x-delete-token'];
    await library.delete(request.params.id, typeof token === 'string' ? token : '');
    request.log.info({ id: request.params.id }, 'image deleted');
    return reply.code(204).send();
  });
}
