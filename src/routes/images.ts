// GET|HEAD /imgs/<id>/(orig|thumb): the bytes of an original or its thumbnail.
import type { FastifyInstance } from 'fastify';
import { SmallBlobCache } from '../http/blob-cache.js';
import { sendBlob } from '../http/blob-response.js';
import type { Library, Variant } from '../library.js';

/** Memory for small blobs: 32 MiB holds a few thousand thumbnails. */
const CACHE_BYTES = 32 * 1024 * 1024;
const CACHED_BLOB = 256 * 1024;

export function imageRoutes(app: FastifyInstance, library: Library): void {
  const cache = new SmallBlobCache(CACHE_BYTES, CACHED_BLOB);
  app.route<{ Params: { id: string; variant: Variant } }>({
    method: ['GET', 'HEAD'],
    url: '/imgs/:id/:variant(^(?:orig|thumb)$)',
    exposeHeadRoute: false,
    handler: async (request, reply) => {
      const { id, variant } = request.params;
      const image = await library.get(id);
      const blob = image[variant];
      // A published store serves the bytes itself; HEAD still answers here, from the record.
      const direct = request.method === 'GET' ? library.publicUrl(image, variant) : null;
      if (direct) {
        await reply.redirect(direct, 302);
        return;
      }
      await sendBlob(request, reply, {
        hash: blob.hash,
        bytes: blob.bytes,
        mime: blob.mime,
        modified: image.createdAt,
        open: (range) => library.read(image, variant, range),
      }, cache);
    },
  });
}
