// `imghost takedown`, run as an operator would against the data directory of a running server:
// every image with the bytes goes with its thumbnail, variants and blobs; their links answer 410,
// the bytes are refused (451) until `--undo`; `--list` and `--log` say what was done and why.
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FsStore } from '../../src/store/fs.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { assertVerifyClean } from '../helpers/data-dir.js';
import { photo, solid } from '../helpers/images.js';
import { startSharedNodes, type SharedNodes } from '../helpers/nodes.js';
import { startTestServer, type TestServer, type UploadedImage } from '../helpers/server.js';

let server: TestServer;
before(async () => { server = await startTestServer({ variants: 'small:64' }); });
after(() => server.close());

const takedown = (...args: string[]): Promise<CliResult> => runCli(['takedown', ...args, `--data_dir=${server.dataDir}`]);

async function storedBlobs(root = join(server.dataDir, 'blobs')): Promise<string[]> {
  const keys: string[] = [];
  for await (const blob of new FsStore(root).list()) keys.push(blob.key);
  return keys.sort();
}

/** Every link of an image a route answers, the variant included. */
const linksOf = (id: string): string[] => [`/imgs/${id}/orig`, `/imgs/${id}/thumb`, `/imgs/${id}/small.webp`, `/i/${id}`, `/api/images/${id}`];

async function statusesOf(id: string, on: TestServer = server): Promise<number[]> {
  return Promise.all(linksOf(id).map(async (link) => {
    const res = await on.fetch(link);
    await res.arrayBuffer();
    return res.status;
  }));
}

describe('imghost takedown', () => {
  let bytes: Buffer;
  let first: UploadedImage;
  let second: UploadedImage;

  before(async () => {
    bytes = await photo(320, 240);
    first = await server.uploadOk(bytes);
    second = await server.uploadOk(bytes, { filename: 'again.jpg' });
    // Served once each, so every cache that could keep their bytes (records, small blobs, open files, variants) holds them.
    assert.deepEqual(await statusesOf(first.id), [200, 200, 200, 200, 200]);
    assert.deepEqual(await statusesOf(second.id), [200, 200, 200, 200, 200]);
  });

  it('removes every image with the bytes of the id it is given, and every blob of theirs', async () => {
    assert.equal(first.sha256, second.sha256);
    assert.notEqual(first.id, second.id);
    const blobs = await storedBlobs();
    assert.ok(blobs.includes(first.sha256) && blobs.length >= 3, 'the original, its thumbnail and a variant at least');
    const result = await takedown(first.id, '--reason=copyright claim from Example Ltd');
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`^removed image ${first.id}$`, 'm'));
    assert.match(result.stdout, new RegExp(`^removed image ${second.id}$`, 'm'));
    assert.match(result.stdout, new RegExp(`^takedown: ${first.sha256} is refused from now on; 2 images removed, ${String(blobs.length)} blobs deleted$`, 'm'));
    assert.deepEqual(await storedBlobs(), []);
  });

  it('answers 410 on every link of each removed image, from the running server', async () => {
    for (const id of [first.id, second.id]) assert.deepEqual(await statusesOf(id), [410, 410, 410, 410, 410], id);
    const res = await server.fetch(`/api/images/${second.id}`);
    assert.match(await res.text(), /this image was taken down/);
    const deleted = await server.fetch(`/api/images/${first.id}`, { method: 'DELETE', headers: { 'x-delete-token': first.delete_token } });
    assert.equal(deleted.status, 410);
  });

  it('refuses the same bytes uploaded again with 451, storing nothing', async () => {
    const res = await server.upload(bytes, { filename: 'sneaky.jpg' });
    assert.equal(res.status, 451, await res.text());
    assert.deepEqual(await storedBlobs(), []);
    assert.deepEqual(await readdir(join(server.dataDir, 'tmp')), []);
  });

  it('lists the takedown with its reason and the images it removed, and logs it', async () => {
    const list = await takedown('--list');
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, new RegExp(`^${first.sha256}\\t\\S+Z\\t2 images\\tcopyright claim from Example Ltd$`, 'm'));
    assert.match(list.stdout, /^takedown: 1 takedown in force$/m);
    const log = await takedown('--log');
    assert.equal(log.code, 0, log.stderr);
    assert.match(log.stdout, new RegExp(`^\\S+Z\\ttakedown\\t${first.sha256}\\t2 images\\tcopyright claim from Example Ltd\\n$`));
  });

  it('leaves a library that verify finds whole', async () => {
    await assertVerifyClean(server.dataDir);
  });

  it('is undone by an id it removed: the bytes upload again, the old ids answer 404, the log keeps both', async () => {
    const undo = await takedown('--undo', second.id, '--reason=claim withdrawn');
    assert.equal(undo.code, 0, undo.stderr);
    assert.match(undo.stdout, new RegExp(`^takedown: ${first.sha256} is accepted again; links of the 2 images it removed answer 404`));
    for (const id of [first.id, second.id]) assert.deepEqual(await statusesOf(id), [404, 404, 404, 404, 404], id);
    const again = await server.uploadOk(bytes);
    assert.equal(again.sha256, first.sha256);
    // Every link of the new image serves, though the server had cached the old ones' records and blobs.
    assert.deepEqual(await statusesOf(again.id), [200, 200, 200, 200, 200]);
    const log = await takedown('--log');
    assert.match(log.stdout, new RegExp(`\\ttakedown\\t${first.sha256}\\t2 images\\t.*\\n\\S+Z\\tundo\\t${first.sha256}\\t2 images\\tclaim withdrawn\\n$`));
    assert.match((await takedown('--list')).stdout, /^takedown: 0 takedowns in force$/m);
  });

  it('takes down by SHA-256 as by id', async () => {
    const other = await server.uploadOk(await solid(50, 40, '#c04020'));
    const result = await takedown(other.sha256);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`^removed image ${other.id}$`, 'm'));
    assert.deepEqual(await statusesOf(other.id), [410, 410, 410, 410, 410]);
    assert.equal((await server.upload(await solid(50, 40, '#c04020'))).status, 451);
    assert.match((await takedown('--list')).stdout, new RegExp(`^${other.sha256}\\t\\S+Z\\t1 image\\t-$`, 'm'));
    await assertVerifyClean(server.dataDir);
  });

  it('names what it cannot take down or undo, and changes nothing', async () => {
    const unknownId = await takedown('AAAAAAAAAAAAAAAA');
    assert.equal(unknownId.code, 1);
    assert.equal(unknownId.stderr, 'imghost: takedown: there is no image AAAAAAAAAAAAAAAA\n');
    const unknownHash = await takedown('ab'.repeat(32));
    assert.equal(unknownHash.code, 1);
    assert.equal(unknownHash.stderr, `imghost: takedown: no image has the original ${'ab'.repeat(32)}\n`);
    const notTakenDown = await takedown('--undo', 'ab'.repeat(32));
    assert.equal(notTakenDown.code, 1);
    assert.equal(notTakenDown.stderr, `imghost: takedown: the original ${'ab'.repeat(32)} is not taken down\n`);
    const malformed = await takedown('not-an-id!');
    assert.equal(malformed.code, 2);
    assert.match(malformed.stderr, /neither an image id nor a SHA-256/);
    const usage = await takedown();
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /^imghost: usage: imghost takedown <id\|sha256>/);
    assert.match((await takedown('--log')).stdout, /^(?:.*\n){3}$/, 'two takedowns and an undo, nothing more');
  });
});

describe('imghost takedown on two nodes sharing PostgreSQL', () => {
  let shared: SharedNodes;
  before(async () => { shared = await startSharedNodes({ variants: 'small:64' }); });
  after(() => shared.close());

  it('answers 410 on both nodes at once, and both refuse the bytes', async () => {
    const { nodes, pg, dir, store } = shared;
    const [a, b] = [shared.node(0), shared.node(1)];
    const bytes = await photo(240, 180);
    const image = await a.uploadOk(bytes);
    assert.deepEqual(await statusesOf(image.id, b), [200, 200, 200, 200, 200]);
    const result = await runCli(['takedown', image.id, `--db=${pg.url}`, `--store=${store}`, `--data_dir=${dir}`]);
    assert.equal(result.code, 0, result.stderr);
    for (const node of nodes) assert.deepEqual(await statusesOf(image.id, node), [410, 410, 410, 410, 410]);
    for (const node of nodes) assert.equal((await node.upload(bytes)).status, 451);
    assert.deepEqual(await storedBlobs(store), []);
  });
});
