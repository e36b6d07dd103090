// Fills a running imghost with images to serve.
import { uploadMany } from './client.js';
import { smallPhoto, type Bench, type ImageSet } from './context.js';

export interface Served {
  id: string;
  /** SHA-256 of the blob: its path in the blob store, for nginx to serve the same file. */
  hash: string;
}

/** Uploads `count` distinct copies of `set` and returns their ids and the hashes of `variant`. */
export async function populate(url: string, set: ImageSet, count: number, variant: 'thumb' | 'orig'): Promise<Served[]> {
  const { uploads } = await uploadMany(url, () => set.next(), set.cls.mime, count, 8);
  return Promise.all(uploads.map(async ({ id }) => ({ id, hash: await blobHash(url, `/imgs/${id}/${variant}`) })));
}

/** The hash of the blob `path` serves, from its ETag (a HEAD; a variant is made if it was not yet). */
export async function blobHash(url: string, path: string): Promise<string> {
  const res = await fetch(`${url}${path}`, { method: 'HEAD' });
  const etag = res.headers.get('etag');
  if (res.status !== 200 || etag === null) throw new Error(`HEAD ${path} answered ${String(res.status)}`);
  return etag.replaceAll('"', '');
}

/** The path of a blob under the blob store's root (see src/store/fs.ts). */
export const blobPath = (hash: string): string => `/${hash.slice(0, 2)}/${hash.slice(2, 4)}/${hash}`;

/** A fresh library to serve from: thumbnails of 100 (quick) or 400 small photos, and 4 or 8 5120x2880 originals. */
export async function servingLibrary(bench: Bench): Promise<{ dataDir: string; thumbs: Served[]; origs: Served[] }> {
  const dataDir = await bench.dir('data');
  return {
    dataDir,
    ...await bench.withImghost([], async (server) => ({
      thumbs: await populate(server.url, await bench.images(smallPhoto), bench.pick(100, 400), 'thumb'),
      origs: await populate(server.url, await bench.images(bench.imageClass('jpeg-5120x2880')), bench.pick(4, 8), 'orig'),
    }), dataDir),
  };
}
