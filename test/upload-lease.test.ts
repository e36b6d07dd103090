// The heartbeat of live uploads: while an upload holds them, its pending record's lease is renewed
// and its spooled file is touched, so gc leaves both alone; once it lets go, neither is renewed.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { SqliteRepo } from '../src/repo/sqlite.js';
import { UploadLeases } from '../src/upload-lease.js';
import { image } from './repo/contract.js';

/** Short enough for a test, with the production ratio of six renewals per lease. */
const LEASE = { durationMs: 300, renewEveryMs: 50 };

describe('UploadLeases', () => {
  let dir: string;
  let repo: SqliteRepo;
  let leases: UploadLeases;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'imghost-lease-'));
    repo = new SqliteRepo(join(dir, 'imghost.db'));
    leases = new UploadLeases(repo, LEASE);
  });
  after(async () => {
    await repo.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps a held pending record from gc for many leases, and lets it lapse once released', async () => {
    const held = image();
    const unheld = image();
    await repo.insertPending(held, LEASE.durationMs);
    await repo.insertPending(unheld, LEASE.durationMs);
    const release = leases.keepRecord(held.id);
    await sleep(3 * LEASE.durationMs);
    assert.deepEqual((await repo.removeExpiredPending()).map((r) => r.id), [unheld.id]);
    release();
    await sleep(2 * LEASE.durationMs);
    assert.deepEqual((await repo.removeExpiredPending()).map((r) => r.id), [held.id]);
  });

  it('keeps a held file recently modified, and stops touching it once released', async () => {
    const path = join(dir, `upload-${randomBytes(4).toString('hex')}`);
    await writeFile(path, 'spooled');
    const longAgo = new Date(Date.now() - 3600_000);
    await utimes(path, longAgo, longAgo);
    const release = leases.keepFile(path);
    await sleep(3 * LEASE.renewEveryMs);
    assert.ok(Date.now() - (await stat(path)).mtimeMs < LEASE.durationMs, 'touched within the lease');
    release();
    await sleep(LEASE.renewEveryMs); // a beat already under way may still land
    await utimes(path, longAgo, longAgo);
    await sleep(3 * LEASE.renewEveryMs);
    assert.ok(Date.now() - (await stat(path)).mtimeMs > 3500_000, 'not touched since');
  });

  it('goes on renewing the others when a held file is gone', async () => {
    const gone = leases.keepFile(join(dir, 'moved-into-the-store'));
    const held = image();
    await repo.insertPending(held, LEASE.durationMs);
    const release = leases.keepRecord(held.id);
    await sleep(2 * LEASE.durationMs);
    assert.deepEqual(await repo.removeExpiredPending(), []);
    release();
    gone();
  });
});
