// `imghost sign <id> <box>[.<ext>]`, run as a user would: the URL it prints is served by a server
// with the same key; without a key, or given a box or id no server would take, it refuses.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { runCli, type CliResult } from '../helpers/cli.js';
import { photo } from '../helpers/images.js';
import { startTestServer, type TestServer, type UploadedImage } from '../helpers/server.js';

const KEY = 'a key only this server and its apps know';

const refusedInOneLine = (result: CliResult, mention: RegExp) => {
  assert.equal(result.code, 2, result.stderr);
  assert.equal(result.stdout, '');
  assert.match(result.stderr, /^imghost: [^\n]+\n$/);
  assert.match(result.stderr, mention);
};

describe('imghost sign', () => {
  let s: TestServer;
  let image: UploadedImage;
  let runs: Record<'path' | 'absolute' | 'fromEnv' | 'noKey' | 'badBox' | 'badGravity' | 'badId' | 'noBox', CliResult>;
  before(async () => {
    s = await startTestServer({ signing_key: KEY });
    image = await s.uploadOk(await photo(900, 600, 'jpeg'));
    const key = `--signing_key=${KEY}`;
    const [path, absolute, fromEnv, noKey, badBox, badGravity, badId, noBox] = await Promise.all([
      runCli(['sign', image.id, '300x200-cover.webp', key]),
      runCli(['sign', image.id, '450x0', key, `--public_url=${s.url}`]),
      runCli(['sign', image.id, '100x100-cover-south.png'], { IMGHOST_SIGNING_KEY: KEY }),
      runCli(['sign', image.id, '300x200']),
      runCli(['sign', image.id, '9000x200.webp', key]),
      runCli(['sign', image.id, '300x200-cover-up', key]),
      runCli(['sign', 'not/an-id', '300x200', key]),
      runCli(['sign', image.id, key]),
    ]);
    runs = { path, absolute, fromEnv, noKey, badBox, badGravity, badId, noBox };
  });
  after(() => s.close());

  it('prints the path of the signed URL, which the server with that key serves at that box', async () => {
    const { code, stdout } = runs.path;
    assert.equal(code, 0);
    assert.match(stdout, new RegExp(`^/imgs/${image.id}/s/[A-Za-z0-9_-]{43}/300x200-cover\\.webp\\n$`));
    const res = await s.fetch(stdout.trim());
    assert.equal(res.status, 200);
    const meta = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['webp', 300, 200]);
  });

  it('prints an absolute URL on --public_url, and the key may come from the environment', async () => {
    assert.equal(runs.absolute.code, 0);
    assert.ok(runs.absolute.stdout.startsWith(`${s.url}/imgs/${image.id}/s/`), runs.absolute.stdout);
    const res = await fetch(runs.absolute.stdout.trim(), { headers: { accept: 'image/webp' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'image/webp');
    assert.equal((await sharp(Buffer.from(await res.arrayBuffer())).metadata()).width, 450);

    assert.equal(runs.fromEnv.code, 0);
    assert.equal((await s.fetch(runs.fromEnv.stdout.trim())).status, 200);
  });

  it('refuses, in one line with exit code 2, without a key or given a box or id no server takes', () => {
    refusedInOneLine(runs.noKey, /--signing_key/);
    refusedInOneLine(runs.badBox, /'9000x200\.webp'.*8192/);
    refusedInOneLine(runs.badGravity, /'300x200-cover-up'.*gravity/);
    refusedInOneLine(runs.badId, /'not\/an-id' is not an image id/);
    refusedInOneLine(runs.noBox, /usage: imghost sign <id> <box>/);
  });
});
