// The browser pages: the upload form with the recent images, and one page per image.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config/options.js';
import { MissingFile } from '../errors.js';
import { imageJson } from '../http/present.js';
import { uploadedFiles } from '../http/upload-body.js';
import type { Views } from '../http/views.js';
import type { Xsrf } from '../http/xsrf.js';
import type { Library } from '../library.js';

type PageOptions = Pick<Config, 'recent_count' | 'max_upload_size' | 'max_pixels'>;

/** The site's own origin as the client reached it, for copyable absolute links. */
const origin = (request: FastifyRequest): string => `${request.protocol}://${request.host}`;

export function pageRoutes(app: FastifyInstance, library: Library, views: Views, xsrf: Xsrf, config: PageOptions): void {
  const page = (request: FastifyRequest, reply: FastifyReply) => ({
    xsrf: xsrf.token(request, reply),
    limits: { maxUploadSize: config.max_upload_size, maxPixels: config.max_pixels },
  });

  app.get('/', { config: { html: true } }, async (request, reply) => {
    const images = await library.list(config.recent_count);
    await views.send(reply, 'index', { ...page(request, reply), images: images.map(imageJson) });
  });

  app.post('/', { config: { html: true } }, async (request, reply) => {
    library.ingest.assertCapacity();
    const fields: Record<string, string> = {};
    let uploaded = 0;
    for await (const file of uploadedFiles(request, fields)) {
      xsrf.verify(request, reply, fields._xsrf);
      const { image } = await library.ingest.upload(file.stream, file.filename);
      request.log.info({ id: image.id, bytes: image.orig.bytes, format: image.format }, 'image uploaded');
      uploaded++;
    }
    xsrf.verify(request, reply, fields._xsrf);
    if (uploaded === 0) throw new MissingFile();
    return reply.redirect('/', 303);
  });

  app.get<{ Params: { id: string } }>('/i/:id', { config: { html: true } }, async (request, reply) => {
    const image = imageJson(await library.get(request.params.id));
    await views.send(reply, 'image', { ...page(request, reply), image, origin: origin(request) });
  });
}
