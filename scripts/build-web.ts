// Bundles the browser code and styles of web/client into dist/assets with content-hashed file
// names, and writes dist/assets/manifest.json mapping each source name (`app.js`, `style.css`)
// to its hashed file, so pages link assets that can be cached for a year.
import { build } from 'esbuild';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = join(root, 'dist/assets');
const entryPoints = ['app.ts', 'style.css', 'favicon.svg'].map((name) => join(root, 'web/client', name));

await rm(outdir, { recursive: true, force: true });
await mkdir(outdir, { recursive: true });
const result = await build({
  entryPoints,
  outdir,
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
  entryNames: '[name]-[hash]',
  loader: { '.svg': 'copy' },
  metafile: true,
  legalComments: 'none',
  logLevel: 'warning',
});

const manifest: Record<string, string> = {};
for (const [output, { entryPoint }] of Object.entries(result.metafile.outputs)) {
  if (entryPoint === undefined) continue;
  manifest[basename(entryPoint).replace(/\.ts$/, '.js')] = basename(output);
}
await writeFile(join(outdir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
