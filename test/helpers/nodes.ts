// Several servers sharing one PostgreSQL database and one blob directory, as nodes behind a load
// balancer would: for what must hold across nodes (quotas, view limits, rate limits, takedowns).
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../../src/config/options.js';
import { startPostgres, type TestPostgres } from './postgres.js';
import { startTestServer, tempDir, type TestServer } from './server.js';

export interface SharedNodes {
  pg: TestPostgres;
  /** A temporary directory holding the shared blob store, for other files a test keeps beside it. */
  dir: string;
  /** The shared blob store's directory. */
  store: string;
  nodes: TestServer[];
  /** Node `i`, counted round the nodes. */
  node(i: number): TestServer;
  close(): Promise<void>;
}

/** `count` nodes with `options`, plus what `perNode` adds for node i (given the shared directory). */
export async function startSharedNodes(options: Partial<Config> = {}, count = 2,
  perNode: (i: number, dir: string) => Partial<Config> = () => ({})): Promise<SharedNodes> {
  const [pg, dir] = await Promise.all([startPostgres(), tempDir('imghost-nodes-')]);
  const store = join(dir, 'store');
  const nodes = await Promise.all(Array.from({ length: count }, (_, i) => startTestServer({ db: pg.url, store, ...options, ...perNode(i, dir) })));
  return {
    pg, dir, store, nodes,
    node(i) {
      const node = nodes[i % nodes.length];
      assert.ok(node);
      return node;
    },
    async close() {
      await Promise.all(nodes.map((node) => node.close()));
      await pg.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
