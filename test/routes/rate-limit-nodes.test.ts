// The upload rate limit on several nodes sharing one PostgreSQL: one allowance per client across
// all of them, sequential or concurrent, given back when the window passes; and a count that
// cannot be taken lets the upload through rather than failing it.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { solid } from '../helpers/images.js';
import { startSharedNodes, type SharedNodes } from '../helpers/nodes.js';
import { eventually } from '../helpers/process.js';
import type { TestServer } from '../helpers/server.js';

const LIMIT = 3;
const WINDOW = 3;

interface ErrorJson { status: number; error: string }

describe('--upload_rate_limit on two nodes sharing PostgreSQL', () => {
  /** The nodes; their shared directory holds the first node's log. */
  let shared: SharedNodes;
  let image: Buffer;
  before(async () => {
    // Loopback is a trusted proxy, so each test names its own client in X-Forwarded-For.
    const limit = { upload_rate_limit: LIMIT, upload_rate_window: WINDOW, trusted_proxies: '127.0.0.1' };
    [shared, image] = await Promise.all([
      startSharedNodes(limit, 2, (i, dir) => (i === 0 ? { logging: 'warning', log_file_prefix: join(dir, 'imghost') } : {})),
      solid(8, 8, '#336699'),
    ]);
  });
  after(() => shared.close());

  const node = (i: number): TestServer => shared.node(i);
  const uploadAs = async (client: string, i: number): Promise<Response> => {
    const res = await node(i).upload(image, { headers: { 'x-forwarded-for': client } });
    if (res.status !== 429) await res.arrayBuffer();
    return res;
  };
  async function assertLimited(res: Response): Promise<void> {
    assert.equal(res.status, 429);
    const retryAfter = Number(res.headers.get('retry-after'));
    assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= WINDOW, `Retry-After ${String(retryAfter)}`);
    const body = await res.json() as ErrorJson;
    assert.deepEqual([body.status, body.error], [429, 'RATE_LIMITED']);
  }

  it('accepts exactly the limit from one client alternating between nodes, then answers 429 on both until the window passes', async () => {
    for (let i = 0; i < LIMIT; i++) assert.equal((await uploadAs('192.0.2.10', i)).status, 201, `upload ${String(i + 1)}`);
    const refused = [await uploadAs('192.0.2.10', 0), await uploadAs('192.0.2.10', 1)];
    for (const res of refused) await assertLimited(res);
    // Another client's allowance is its own.
    assert.equal((await uploadAs('192.0.2.11', 1)).status, 201);

    await sleep(Math.max(...refused.map((res) => Number(res.headers.get('retry-after')))) * 1000 + 100);
    assert.equal((await uploadAs('192.0.2.10', 1)).status, 201);
    assert.equal((await uploadAs('192.0.2.10', 0)).status, 201);
  });

  it('accepts exactly the limit of many concurrent uploads spread over both nodes', async () => {
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => uploadAs('192.0.2.20', i)));
    const statuses = answers.map((res) => res.status);
    assert.equal(statuses.filter((status) => status === 201).length, LIMIT, statuses.join(' '));
    for (const res of answers.filter((r) => r.status !== 201)) await assertLimited(res);
  });

  it('lets uploads through, uncounted, while the count cannot be taken, and counts again once it can', async () => {
    await shared.pg.query('ALTER TABLE rate_limits RENAME TO rate_limits_away', [], 'imghost');
    try {
      for (let i = 0; i < LIMIT + 2; i++) assert.equal((await uploadAs('192.0.2.30', i)).status, 201, `upload ${String(i + 1)}`);
    } finally {
      await shared.pg.query('ALTER TABLE rate_limits_away RENAME TO rate_limits', [], 'imghost');
    }
    await eventually('a warning that the count failed', async () =>
      (await readFile(join(shared.dir, 'imghost.1.log'), 'utf8').catch(() => '')).includes('rate limit count failed'));
    for (let i = 0; i < LIMIT; i++) assert.equal((await uploadAs('192.0.2.30', i)).status, 201);
    await assertLimited(await uploadAs('192.0.2.30', 1));
  });
});
