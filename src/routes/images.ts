// GET|HEAD /imgs/<id>/(orig|thumb): the bytes of an original or its thumbnail; GET|HEAD
// /imgs/<id>/<name>[.<ext>]: a named variant, in the format the extension or Accept asks for;
// GET|HEAD /imgs/<id>/s/<signature>/<box>[.<ext>]: any box, when signed with --signing_key.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config/options.js';
import { BlobMissing } from '../errors.js';
import { accelTarget } from '../http/accel-redirect.js';
import { SMALL_BLOB, SmallBlobCache } from '../http/blob-cache.js';
import { sendBlob } from '../http/blob-response.js';
import { cacheControlOf, mayPublish } from '../http/image-caching.js';
import type { Library, Variant } from '../library.js';
import type { VariantRecord } from '../repo/index.js';
import type { VariantRequest } from '../variants/service.js';
import { signedRequest, type SignedParams } from '../variants/signing.js';

/** Memory for small blobs: 32 MiB holds a few thousand thumbnails. */
const CACHE_BYTES = 32 * 1024 * 1024;

export function imageRoutes(app: FastifyInstance, library: Library, config: Pick<Config, 'signing_key' | 'avif' | 'accel_redirect'>): void {
  const cache = new SmallBlobCache(CACHE_BYTES, SMALL_BLOB);
  const accel = accelTarget(config.accel_redirect, library);
  const sendVariant = async (request: FastifyRequest, reply: FastifyReply, id: string, asked: VariantRequest): Promise<void> => {
    const image = await library.get(id);
    // Caches must keep one answer per Accept when the format was chosen by it.
    if (asked.negotiated) reply.header('vary', 'Accept');
    const send = (variant: VariantRecord) => sendBlob(request, reply, {
      ...variant,
      modified: variant.createdAt,
      cacheControl: cacheControlOf(image),
      open: (range) => library.readVariant(variant, range),
    }, cache);
    const variant = await library.variant(image, asked);
    try {
      await send(variant);
    } catch (err) {
      // A record can outlive its blob (a store migrated or restored without it): the variant is
      // made again rather than checked for on every request.
      if (!(err instanceof BlobMissing) || reply.raw.headersSent) throw err;
      await send(await library.remakeVariant(image, variant, asked));
    }
  };
  // A route each, so that logs and metrics name originals and thumbnails apart.
  for (const variant of ['orig', 'thumb'] as const satisfies readonly Variant[]) app.route<{ Params: { id: string } }>({
    method: ['GET', 'HEAD'],
    url: `/imgs/:id/${variant}`,
    exposeHeadRoute: false,
    handler: async (request, reply) => {
      const image = await library.get(request.params.id);
      const blob = image[variant];
      // A published store serves the bytes itself; HEAD still answers here, from the record. An
      // image that counts its views or expires is always served here, where they are checked.
      const direct = request.method === 'GET' && mayPublish(image) ? library.publicUrl(image, variant) : null;
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
        cacheControl: cacheControlOf(image),
        // Only a GET of the original spends a view: thumbnails and HEAD do not.
        admit: variant === 'orig' ? () => library.countView(image) : undefined,
        accel: accel(blob),
      }, cache);
    },
  });
  app.route<{ Params: SignedParams }>({
    method: ['GET', 'HEAD'],
    url: '/imgs/:id/s/:signature/:box',
    exposeHeadRoute: false,
    handler: async (request, reply) => {
      const asked = signedRequest(config.signing_key, config.avif, request.params, request.headers.accept);
      await sendVariant(request, reply, request.params.id, asked);
    },
  });
  app.route<{ Params: { id: string; file: string } }>({
    method: ['GET', 'HEAD'],
    url: '/imgs/:id/:file',
    exposeHeadRoute: false,
    handler: async (request, reply) => {
      const { id, file } = request.params;
      const dot = file.indexOf('.');
      const asked = library.variants.request(dot === -1 ? file : file.slice(0, dot), dot === -1 ? undefined : file.slice(dot + 1), request.headers.accept);
      await sendVariant(request, reply, id, asked);
    },
  });
}
