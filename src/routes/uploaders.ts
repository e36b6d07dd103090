// Ready-made configs for uploading from other programs: a ShareX custom uploader and a shell
// script (for Flameshot and the command line), written for this server's address. When uploads
// need a token, a config carries a placeholder, or the token itself for a request that showed
// it, as it carries a user's key shown on any server: nobody receives a token they did not send.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { bearerToken, type UploadGuards } from '../http/auth.js';
import { linkBase } from '../http/origin.js';
import { sharexUploader } from '../uploaders/sharex.js';
import { hostFileName, TOKEN_PLACEHOLDER, type UploaderSettings } from '../uploaders/settings.js';
import { shellUploader } from '../uploaders/shell.js';

export function uploaderRoutes(app: FastifyInstance, publicBase: string | null, guards: UploadGuards): void {
  // Showing a token is checking it: counted as uploads are, so these routes are no way around
  // the limit on guessing.
  const route = { onRequest: guards.limit };

  const settings = async (request: FastifyRequest): Promise<UploaderSettings> => {
    const base = linkBase(request, publicBase);
    const shown = bearerToken(request);
    // A user's key is carried on a server open to all too, so the uploads are theirs.
    if (shown !== undefined && await guards.auth.bakeable(shown)) return { base, token: shown };
    return { base, token: guards.auth.required ? TOKEN_PLACEHOLDER : null };
  };

  const download = (reply: FastifyReply, type: string, fileName: string) => reply
    .type(type)
    .header('content-disposition', `attachment; filename="${fileName}"`)
    // The answer may hold the token of whoever asked, and depends on who asks.
    .header('cache-control', 'private, no-store')
    .header('vary', 'Authorization, Host, X-Forwarded-Host, X-Forwarded-Proto');

  app.get('/api/uploaders/sharex.sxcu', route, async (request, reply) => {
    const config = await settings(request);
    return download(reply, 'application/json; charset=utf-8', hostFileName(config, 'sxcu'))
      .send(`${JSON.stringify(sharexUploader(config), null, 2)}\n`);
  });

  app.get('/api/uploaders/imghost.sh', route, async (request, reply) => {
    const script = shellUploader(await settings(request));
    return download(reply, 'text/x-shellscript; charset=utf-8', 'imghost.sh').send(script);
  });
}
