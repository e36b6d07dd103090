// Server-rendered pages: Eta templates from web/views, auto-escaped, cached unless in debug mode.
// Every template can call `it.asset(name)` for the hashed URL of a page asset, and `it.nonce` is
// the one inline <style> block the page's CSP admits.
import { Eta } from 'eta';
import { randomBytes } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import { fileURLToPath } from 'node:url';
import type { Assets } from './assets.js';

const webRoot = fileURLToPath(new URL('../../web/', import.meta.url));

/** The pages' Content-Security-Policy; with a nonce, the page's own <style> block is admitted too. */
export const pageCsp = (styleNonce?: string): string => "default-src 'self'; img-src 'self' data: blob:; script-src 'self'; "
  + `style-src 'self'${styleNonce === undefined ? '' : ` 'nonce-${styleNonce}'`}; `
  + "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

export class Views {
  private readonly eta: Eta;

  constructor(debug: boolean, private readonly assets: Assets) {
    this.eta = new Eta({ views: `${webRoot}views`, cache: !debug, autoEscape: true });
  }

  async send(reply: FastifyReply, name: string, data: object): Promise<void> {
    // New for every page, so markup injected into one cannot carry the nonce that admits styles.
    const nonce = randomBytes(16).toString('base64');
    const html = await this.eta.renderAsync(name, { ...data, nonce, asset: (file: string) => this.assets.url(file) });
    await reply.type('text/html; charset=utf-8').header('content-security-policy', pageCsp(nonce)).send(html);
  }
}
