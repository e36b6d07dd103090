// A user's own corner of the API, by their key: what they store against their quota, and their
// images, listed or not, newest first (the cursor as GET /api/images has it).
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/options.js';
import type { UploadAuth } from '../http/auth.js';
import type { Presenter } from '../http/present.js';
import { nextCursor, parseCount } from '../http/query.js';
import type { Library } from '../library.js';

const MAX_PAGE = 100;

export function meRoutes(app: FastifyInstance, library: Library, config: Pick<Config, 'recent_count'>, present: Presenter, auth: UploadAuth): void {
  const { accounts } = library.repo;

  app.get('/api/me', async (request) => {
    const user = await auth.user(request, 'GET /api/me');
    const usage = await accounts.usage(user.id);
    return { user: user.name, usage, quota: { bytes: user.quotaBytes, images: user.maxImages } };
  });

  app.get<{ Querystring: { limit?: string; before?: string } }>('/api/me/images', async (request) => {
    const user = await auth.user(request, 'GET /api/me/images');
    const limit = Math.min(parseCount(request.query.limit, 'limit', config.recent_count), MAX_PAGE);
    const before = request.query.before === undefined ? undefined : parseCount(request.query.before, 'before', 0);
    const images = await accounts.imagesOf(user.id, limit, before);
    const base = present.base(request);
    return { images: images.map((image) => present.image(image, base)), next_cursor: nextCursor(images, limit) };
  });
}
