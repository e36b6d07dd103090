// The deletion link an upload answers with (`delete_url`): a page that works in any browser,
// showing the image and a button; the button's POST, with the page's CSRF token, deletes it.
// Opening the link deletes nothing, so link previews and prefetches are harmless.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { presenter, type PresenterOptions } from '../http/present.js';
import type { Views } from '../http/views.js';
import type { Xsrf } from '../http/xsrf.js';
import type { Library } from '../library.js';

/** The confirm form's body: the urlencoded fields of a plain HTML form. */
const confirmBody = {
  type: 'object',
  properties: { _xsrf: { type: 'string', maxLength: 256 } },
} as const;

interface DeleteRoute { Params: { id: string; token: string }; Body: { _xsrf?: string } | undefined }

export function deletePageRoutes(app: FastifyInstance, library: Library, views: Views, xsrf: Xsrf, config: PresenterOptions): void {
  const present = presenter(config);
  // Nobody but the uploader should keep or index this page.
  const privately = (reply: FastifyReply) => reply.header('cache-control', 'private, no-store').header('x-robots-tag', 'noindex');

  void app.register((scope, _options, done) => {
    // A plain form posts urlencoded fields; this scope alone reads them.
    scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 4096 }, (_request, body, parsed) => {
      parsed(null, Object.fromEntries(new URLSearchParams(String(body))));
    });

    scope.get<DeleteRoute>('/d/:id/:token', { config: { html: true } }, async (request, reply) => {
      const image = present.image(await library.withDeleteToken(request.params.id, request.params.token), '');
      await views.send(privately(reply), 'delete', { xsrf: xsrf.token(request, reply), image });
    });

    scope.post<DeleteRoute>('/d/:id/:token', { config: { html: true }, schema: { body: confirmBody } }, async (request: FastifyRequest<DeleteRoute>, reply) => {
      xsrf.verify(request, reply, request.body?._xsrf);
      const { id, token } = request.params;
      const image = present.image(await library.withDeleteToken(id, token), '');
      await library.delete(id, token);
      request.log.info({ id }, 'image deleted');
      await views.send(privately(reply), 'deleted', { image });
    });
    done();
  });
}
