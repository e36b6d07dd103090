// The browser pages: the upload form with the recent images, and one page per image. The upload
// page's script posts to the same routes and asks for JSON; the form works without it.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { formatBytes } from '../bytes.js';
import type { Config } from '../config/options.js';
import { caption } from '../http/caption.js';
import type { UploadGuards } from '../http/auth.js';
import { wantsJson } from '../http/negotiate.js';
import { presenter, type UploadedJson } from '../http/present.js';
import { Previews } from '../http/previews.js';
import { PlaceholderStyles } from '../http/placeholders.js';
import { nextCursor, parseCount } from '../http/query.js';
import { storeUploads } from '../http/upload-body.js';
import type { Views } from '../http/views.js';
import type { Xsrf } from '../http/xsrf.js';
import { uploadTypes } from '../images/formats.js';
import type { Library } from '../library.js';
import { shareLinks } from '../share.js';

/** `publicBase`: --public_url, normalised, or null to build links from the request's validated Host. */
type PageOptions = Pick<Config, 'recent_count' | 'max_upload_size' | 'max_pixels' | 'public_listing' | 'variants' | 'thumb_size'> & { publicBase: string | null };

/** Files one form post may carry. */
export const FORM_FILES = 20;

const deleteBody = {
  type: 'object',
  properties: { delete_token: { type: 'string', maxLength: 256 } },
  required: ['delete_token'],
} as const;

/** What the result page shows of each upload: its absolute links, and its thumbnail by site path (`base` off its URL), as the page's own markup. */
const uploadResults = (uploaded: readonly UploadedJson[], base: string) => uploaded.map((image) => ({
  ...image, thumb_path: image.thumb_url.slice(base.length), caption: caption(image), share: shareLinks(image),
}));

export function pageRoutes(app: FastifyInstance, library: Library, views: Views, xsrf: Xsrf, config: PageOptions, guards: UploadGuards): void {
  const present = presenter(config);
  const previews = new Previews(library, config);
  const placeholders = new PlaceholderStyles();
  const page = (request: FastifyRequest, reply: FastifyReply) => ({
    xsrf: xsrf.token(request, reply),
    limits: { maxUploadSize: config.max_upload_size, maxUploadText: formatBytes(config.max_upload_size), maxPixels: config.max_pixels, types: uploadTypes },
  });

  app.get<{ Querystring: { before?: string } }>('/', { config: { html: true } }, async (request, reply) => {
    const { before } = request.query;
    const listing = config.public_listing;
    const images = listing ? await library.list(config.recent_count, before === undefined ? undefined : parseCount(before, 'before', 0)) : [];
    // The page's own links are site paths: they work at whichever address the page was reached.
    const shown = images.map((image) => present.image(image, ''));
    await views.send(reply, 'index', {
      ...page(request, reply),
      listing,
      uploadTokenRequired: guards.auth.required,
      keyField: await guards.auth.keyField(),
      images: shown.map((image) => ({ ...image, thumb_srcset: present.thumbSrcset(image), caption: caption(image) })),
      placeholderCss: await placeholders.css(shown),
      older: before !== undefined,
      next: nextCursor(images, config.recent_count),
    });
  });

  // The token may come from the form's upload_token field, which is only read with the body.
  // Without the page's script the answer is the result page itself: the one place the delete
  // tokens are shown, which a redirect would have to carry in a URL or a cookie. Reloading it
  // posts again, which browsers ask to confirm first.
  app.post('/', { config: { html: true, files: FORM_FILES }, onRequest: guards.limit }, async (request, reply) => {
    const uploaded = await storeUploads(request, reply, library, present, guards.auth, async (fields) => {
      xsrf.verify(request, reply, fields._xsrf);
      await guards.auth.verify(request, fields.upload_token);
    });
    if (wantsJson(request)) return reply.code(201).send({ images: uploaded });
    await views.send(reply.code(201).header('cache-control', 'no-store'), 'uploaded', {
      ...page(request, reply),
      listing: config.public_listing,
      images: uploadResults(uploaded, present.base(request)),
      placeholderCss: await placeholders.css(uploaded),
    });
  });

  app.get<{ Params: { id: string } }>('/i/:id', { config: { html: true } }, async (request, reply) => {
    const record = await library.get(request.params.id);
    // What a visitor copies and what unfurlers read is absolute; the page's own markup uses site paths.
    const base = present.base(request);
    const linked = present.image(record, base), image = present.image(record, '');
    const [placeholderCss, preview] = await Promise.all([placeholders.css([image]), previews.head(record, linked, base)]);
    await views.send(reply, 'image', {
      ...page(request, reply), image, renditions: present.renditions(image), share: shareLinks(linked), preview, placeholderCss,
      sizeText: formatBytes(image.bytes),
    });
  });

  // The page's delete button: the token comes from the browser that uploaded the image.
  app.post<{ Params: { id: string }; Body: { delete_token: string } }>(
    '/i/:id/delete', { config: { html: true }, schema: { body: deleteBody } }, async (request, reply) => {
      xsrf.verify(request, reply, undefined);
      await library.delete(request.params.id, request.body.delete_token);
      request.log.info({ id: request.params.id }, 'image deleted');
      return wantsJson(request) ? reply.code(204).send() : reply.redirect('/', 303);
    });
}
