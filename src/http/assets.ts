// The page assets (script, styles, icon) built by scripts/build-web.ts: served from /assets/ under
// content-hashed names with year-long, immutable caching; pages ask `url()` for the current name.
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const assetsDir = fileURLToPath(new URL('../../dist/assets/', import.meta.url));

export class Assets {
  private constructor(private readonly manifest: Readonly<Record<string, string>>) {}

  static load(): Assets {
    let text: string;
    try {
      text = readFileSync(`${assetsDir}manifest.json`, 'utf8');
    } catch {
      throw new Error(`web assets are not built (${assetsDir}manifest.json is missing): run 'npm run build'`);
    }
    return new Assets(JSON.parse(text) as Record<string, string>);
  }

  /** The public URL of a source asset such as `app.js` or `style.css`. */
  url(name: string): string {
    const file = this.manifest[name];
    if (file === undefined) throw new Error(`no built asset named ${name}`);
    return `/assets/${file}`;
  }

  async register(app: FastifyInstance): Promise<void> {
    await app.register(fastifyStatic, {
      root: assetsDir,
      prefix: '/assets/',
      // The name changes whenever the content does, so a cached copy never goes stale.
      maxAge: '365d',
      immutable: true,
      allowedPath: (path) => path !== '/manifest.json',
    });
  }
}
