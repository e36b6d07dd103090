// Server-rendered pages: Eta templates from web/views, auto-escaped, cached unless in debug mode.
import { Eta } from 'eta';
import type { FastifyReply } from 'fastify';
import { fileURLToPath } from 'node:url';

export const webRoot = fileURLToPath(new URL('../../web/', import.meta.url));

export class Views {
  private readonly eta: Eta;

  constructor(debug: boolean) {
    this.eta = new Eta({ views: `${webRoot}views`, cache: !debug, autoEscape: true });
  }

  async send(reply: FastifyReply, name: string, data: object): Promise<void> {
    const html = await this.eta.renderAsync(name, data);
    await reply.type('text/html; charset=utf-8').send(html);
  }
}
