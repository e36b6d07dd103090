// `imghost gc` and the server's startup sweep: what a crash leaves behind is removed once it is
// older than --gc_grace (unfinished uploads: once their lease ran out), and nothing an image
// needs, nor anything younger, nor anything a live upload holds, is touched.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { access, mkdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_TERMS, type NewImage } from '../../src/repo/index.js';
import { SqliteRepo } from '../../src/repo/sqlite.js';
import { FsStore } from '../../src/store/fs.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { photo, solid } from '../helpers/images.js';
import { eventually } from '../helpers/process.js';
import { startTestServer, tempDir, type TestServer, type UploadedImage } from '../helpers/server.js';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const HOUR = 3600_000;
/** Older than the grace used below (60 s), or younger than it but older than 10 s. */
const OLD_MS = HOUR;
const FRESH_MS = 30_000;

const exists = (path: string): Promise<boolean> => access(path).then(() => true, () => false);
const blobPath = (dataDir: string, key: string) => join(dataDir, 'blobs', key.slice(0, 2), key.slice(2, 4), key);
const ago = (ms: number) => new Date(Date.now() - ms);

interface Ready { image: UploadedImage; orig: Buffer; thumb: Buffer }

/** A data directory as a crash leaves it: two ready images, and leftovers old and fresh. */
interface Crashed {
  dataDir: string;
  ready: Ready[];
  /** Unfinished uploads whose lease ran out, and their blobs nothing else needs. */
  oldPending: string[];
  oldPendingBlobs: string[];
  /** An unfinished upload whose lease is still renewed: in flight. */
  freshPending: string;
  /** Blobs the ready images or the fresh upload still need. */
  keptBlobs: string[];
  oldOrphan: string;
  freshOrphan: string;
  oldTemp: string[];
  freshTemp: string[];
}

function pendingRecord(createdAt: Date, orig: string, thumb: string): NewImage {
  return {
    id: randomBytes(12).toString('base64url'),
    createdAt,
    name: 'crashed.png',
    format: 'png',
    width: 10,
    height: 10,
    orig: { hash: orig, bytes: 100, mime: 'image/png' },
    thumb: { hash: thumb, bytes: 50, mime: 'image/png', width: 10, height: 10 },
    thumbSpec: '128:png',
    deleteTokenHash: sha256(Buffer.from('token')),
    frames: 1,
    placeholder: null,
    ...DEFAULT_TERMS,
  };
}

async function crashedDataDir(): Promise<Crashed> {
  const dataDir = await tempDir('imghost-gc-');
  const server = await startTestServer({ data_dir: dataDir });
  const ready: Ready[] = [];
  try {
    for (const data of [await photo(200, 150), await solid(40, 30, '#208040')]) {
      const image = await server.uploadOk(data);
      const thumb = Buffer.from(await (await server.fetch(image.thumb_url)).arrayBuffer());
      ready.push({ image, orig: data, thumb });
    }
  } finally {
    await server.close();
  }
  const [a] = ready;
  assert.ok(a);

  const repo = new SqliteRepo(join(dataDir, 'imghost.db'));
  const store = await new FsStore(join(dataDir, 'blobs')).init();
  const putBlob = async (data: Buffer, age: number): Promise<string> => {
    const key = sha256(data);
    await store.put(key, data);
    await utimes(blobPath(dataDir, key), ago(age), ago(age));
    return key;
  };
  try {
    // An old unfinished upload whose blobs nothing else needs. They were written recently, so
    // only the removal of their record can free them, not their age.
    const onlyOld = await putBlob(await solid(11, 11, '#110000'), FRESH_MS);
    const onlyOldThumb = await putBlob(await solid(12, 12, '#120000'), FRESH_MS);
    const old1 = pendingRecord(ago(OLD_MS), onlyOld, onlyOldThumb);
    // A duplicate of a ready image whose upload died, with a thumbnail a fresh upload also uses:
    // the ready image and the fresh upload keep their blobs, however old.
    const shared = await putBlob(await solid(13, 13, '#001100'), OLD_MS);
    const old2 = pendingRecord(ago(OLD_MS), a.image.sha256, shared);
    const onlyFresh = await putBlob(await solid(14, 14, '#000011'), FRESH_MS);
    // Begun long before the grace, but its upload is alive: its lease, not its age, decides.
    const fresh = pendingRecord(ago(OLD_MS), onlyFresh, shared);
    // The dead uploads' leases ran out; the live one's is renewed.
    for (const record of [old1, old2]) await repo.insertPending(record, 0);
    await repo.insertPending(fresh, HOUR);

    const oldOrphan = await putBlob(await solid(15, 15, '#111111'), OLD_MS);
    const freshOrphan = await putBlob(await solid(16, 16, '#222222'), FRESH_MS);

    const tempFile = async (path: string, age: number): Promise<string> => {
      await mkdir(join(path, '..'), { recursive: true });
      await writeFile(path, randomBytes(100));
      await utimes(path, ago(age), ago(age));
      return path;
    };
    const oldTemp = [
      await tempFile(join(dataDir, 'tmp', 'upload-0000000000000001'), OLD_MS),
      await tempFile(join(dataDir, 'blobs', '.tmp', `${oldOrphan}.a1b2c3d4e5f6`), OLD_MS),
    ];
    const freshTemp = [
      await tempFile(join(dataDir, 'tmp', 'upload-0000000000000002'), FRESH_MS),
      await tempFile(join(dataDir, 'blobs', '.tmp', `${freshOrphan}.0a0b0c0d0e0f`), FRESH_MS),
    ];
    return {
      dataDir, ready,
      oldPending: [old1.id, old2.id].sort(),
      oldPendingBlobs: [onlyOld, onlyOldThumb],
      freshPending: fresh.id,
      keptBlobs: [shared, onlyFresh, ...ready.flatMap((r) => [r.image.sha256, sha256(r.thumb)])],
      oldOrphan, freshOrphan, oldTemp, freshTemp,
    };
  } finally {
    await repo.close();
  }
}

/** Ids of unfinished uploads in the database, of any age. */
async function pendingIds(dataDir: string): Promise<string[]> {
  const repo = new SqliteRepo(join(dataDir, 'imghost.db'));
  try {
    return (await repo.stalePending(new Date(Date.now() + HOUR))).map((r) => r.id).sort();
  } finally {
    await repo.close();
  }
}

/** The ready images are all listed and served byte for byte; the unfinished uploads never are. */
async function assertReadyImagesIntact(s: TestServer, c: Crashed): Promise<void> {
  for (const { image, orig, thumb } of c.ready) {
    assert.deepEqual(Buffer.from(await (await s.fetch(image.url)).arrayBuffer()), orig);
    assert.deepEqual(Buffer.from(await (await s.fetch(image.thumb_url)).arrayBuffer()), thumb);
  }
  const listed = await (await s.fetch('/api/images')).json() as { images: { id: string }[] };
  assert.deepEqual(listed.images.map((i) => i.id), c.ready.map((r) => r.image.id).reverse());
  for (const id of [...c.oldPending, c.freshPending]) {
    assert.equal((await s.fetch(`/api/images/${id}`)).status, 404);
    assert.equal((await s.fetch(`/imgs/${id}/orig`)).status, 404);
    assert.equal((await s.fetch(`/imgs/${id}/thumb`)).status, 404);
  }
}

/** Everything younger than the grace, and every blob a record refers to, is still there. */
async function assertFreshLeftoversKept(c: Crashed): Promise<void> {
  for (const key of [...c.keptBlobs, c.freshOrphan]) assert.ok(await exists(blobPath(c.dataDir, key)), `blob ${key} kept`);
  for (const path of c.freshTemp) assert.ok(await exists(path), `${path} kept`);
}

describe('imghost gc', () => {
  let c: Crashed;
  let result: CliResult;
  before(async () => {
    c = await crashedDataDir();
    result = await runCli(['gc', `--data_dir=${c.dataDir}`, '--gc_grace=60']);
  });
  after(() => rm(c.dataDir, { recursive: true, force: true }));

  it('exits 0 and lists each removed leftover, then a summary', () => {
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, '');
    const expected = [
      ...c.oldPending.map((id) => `removed unfinished upload ${id}`),
      ...[...c.oldPendingBlobs, c.oldOrphan].map((key) => `removed orphan blob ${key}`),
      ...c.oldTemp.map((path) => `removed temporary file ${path}`),
      'gc: 2 unfinished uploads, 3 blobs, 2 temporary files removed',
    ];
    assert.deepEqual(result.stdout.trimEnd().split('\n').sort(), expected.sort());
    assert.match(result.stdout, /\ngc: [^\n]*\n$/, 'the summary comes last');
  });

  it('removes the old leftovers from disk and database', async () => {
    for (const key of [...c.oldPendingBlobs, c.oldOrphan]) assert.equal(await exists(blobPath(c.dataDir, key)), false, `blob ${key} removed`);
    for (const path of c.oldTemp) assert.equal(await exists(path), false, `${path} removed`);
    assert.deepEqual(await pendingIds(c.dataDir), [c.freshPending]);
  });

  it('leaves alone what is younger than --gc_grace and every blob a record still refers to', async () => {
    await assertFreshLeftoversKept(c);
  });

  it('finds nothing more to remove when run again', async () => {
    const again = await runCli(['gc', `--data_dir=${c.dataDir}`, '--gc_grace=60']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout, 'gc: 0 unfinished uploads, 0 blobs, 0 temporary files removed\n');
  });

  it('keeps the ready images served byte for byte, and never shows an unfinished upload', async () => {
    const s = await startTestServer({ data_dir: c.dataDir });
    try {
      await assertReadyImagesIntact(s, c);
    } finally {
      await s.close();
    }
    // That server's own startup sweep (default grace, 600 s) removed nothing young either.
    await assertFreshLeftoversKept(c);
    assert.deepEqual(await pendingIds(c.dataDir), [c.freshPending]);
  });
});

describe('startup sweep', () => {
  let c: Crashed;
  let logDir: string;
  let s: TestServer;
  before(async () => {
    c = await crashedDataDir();
    logDir = await tempDir('imghost-gc-log-');
    s = await startTestServer({ data_dir: c.dataDir, gc_grace: 60, logging: 'info', log_file_prefix: join(logDir, 'imghost') });
  });
  after(async () => {
    await s.close();
    await rm(c.dataDir, { recursive: true, force: true });
    await rm(logDir, { recursive: true, force: true });
  });

  it('removes the leftovers older than --gc_grace in the background and logs what it removed', async () => {
    const report = await eventually('the startup sweep to log its report', async () => {
      const log = await readFile(join(logDir, 'imghost.1.log'), 'utf8').catch(() => '');
      const line = log.split('\n').find((l) => l.includes('startup sweep removed leftovers'));
      return line === undefined ? undefined : JSON.parse(line) as { unfinished: string[]; blobs: string[]; temp: string[] };
    });
    assert.deepEqual(report.unfinished.sort(), c.oldPending);
    assert.deepEqual(report.blobs.sort(), [...c.oldPendingBlobs, c.oldOrphan].sort());
    assert.deepEqual(report.temp.sort(), [...c.oldTemp].sort());
    for (const key of [...c.oldPendingBlobs, c.oldOrphan]) assert.equal(await exists(blobPath(c.dataDir, key)), false, `blob ${key} removed`);
    for (const path of c.oldTemp) assert.equal(await exists(path), false, `${path} removed`);
    assert.deepEqual((await s.server.library.repo.stalePending(new Date(Date.now() + HOUR))).map((r) => r.id), [c.freshPending]);
  });

  it('leaves the young leftovers and the ready images alone', async () => {
    await assertFreshLeftoversKept(c);
    await assertReadyImagesIntact(s, c);
  });
});
