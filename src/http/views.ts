// Server-rendered pages: Eta templates from web/views, auto-escaped, cached unless in debug mode.
// Every template can call `it.asset(name)` for the hashed URL of a page asset.
import { Eta } from 'eta';
import type { FastifyReply } from 'fastify';
import { fileURLToPath } from 'node:url';
import type { Assets } from './assets.js';

const webRoot = fileURLToPath(new URL('../../web/', import.meta.url));

export class Views {
  private readonly eta: Eta;

  constructor(debug: boolean, private readonly assets: Assets) {
    this.eta = new Eta({ views: `${webRoot}views`, cache: !debug, autoEscape: true });
  }

  async send(reply: FastifyReply, name: string, data: object): Promise<void> {
    const html = await this.eta.renderAsync(name, { ...data, asset: (file: string) => this.assets.url(file) });
    await reply.type('text/html; charset=utf-8').send(html);
  }
}
