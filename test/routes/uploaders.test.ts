// The uploader configs, each driven as its program drives it: the ShareX custom uploader's request
// is sent exactly as it describes and its answer read with ShareX's {json:path} syntax; the shell
// script runs in sh with curl, on a file and on standard input, as Flameshot pipes a screenshot.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { addUser, bearer } from '../helpers/accounts.js';
import { attributes, tags } from '../helpers/html.js';
import { photo } from '../helpers/images.js';
import { startTestServer, type TestServer, type UploadedImage } from '../helpers/server.js';

interface Sxcu {
  Version: string; Name: string; DestinationType: string; RequestMethod: string; RequestURL: string; Body: string;
  FileFormName: string; Headers?: Record<string, string>; URL: string; ThumbnailURL: string; DeletionURL: string; ErrorMessage: string;
}

/** ShareX's `{json:a.b}`: the value at that path of the answer's JSON, in place of the expression. */
function sharexSyntax(template: string, answer: unknown): string {
  return template.replace(/\{json:([^}]+)\}/g, (_whole, path: string) => {
    const value = path.split('.').reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], answer);
    return typeof value === 'string' || typeof value === 'number' ? String(value) : '';
  });
}

async function downloadSxcu(s: TestServer, headers: Record<string, string> = {}): Promise<Sxcu> {
  const res = await s.fetch('/api/uploaders/sharex.sxcu', { headers });
  assert.equal(res.status, 200, await res.clone().text());
  return await res.json() as Sxcu;
}

/** What ShareX sends for a file: the method, URL and headers of the config, the file in its form field. */
function sendAsSharex(config: Sxcu, file: Buffer, fileName: string): Promise<Response> {
  assert.equal(config.Body, 'MultipartFormData');
  const form = new FormData();
  form.append(config.FileFormName, new Blob([new Uint8Array(file)], { type: 'image/png' }), fileName);
  return fetch(config.RequestURL, { method: config.RequestMethod, headers: config.Headers ?? {}, body: form });
}

interface Run { code: number | null; stdout: string; stderr: string }

/** Runs the downloaded script with sh as a user would, with no display (so no clipboard tool). */
function runScript(script: string, args: string[], options: { stdin?: Buffer; env?: Record<string, string> } = {}): Promise<Run> {
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...options.env };
  const child = spawn('sh', [script, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '', stderr = '';
  child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  // A script that refuses before reading its input closes the pipe: as for Flameshot, that is no error.
  child.stdin.on('error', () => undefined);
  child.stdin.end(options.stdin);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => { resolve({ code, stdout, stderr }); });
  });
}

async function downloadScript(s: TestServer, headers: Record<string, string> = {}): Promise<string> {
  const res = await s.fetch('/api/uploaders/imghost.sh', { headers });
  assert.equal(res.status, 200);
  const path = join(s.dataDir, `imghost-${String(Math.random()).slice(2)}.sh`);
  await writeFile(path, await res.text());
  return path;
}

async function assertServes(url: string, bytes: Buffer): Promise<void> {
  const res = await fetch(url);
  assert.equal(res.status, 200, url);
  assert.deepEqual(Buffer.from(await res.arrayBuffer()), bytes);
}

describe('uploader configs, on a server without an upload token', () => {
  let s: TestServer;
  let png: Buffer;
  before(async () => {
    s = await startTestServer();
    png = await photo(64, 48, 'png');
  });
  after(() => s.close());

  it('offers a ShareX custom uploader as an .sxcu attachment named for the host', async () => {
    const res = await s.fetch('/api/uploaders/sharex.sxcu');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    const host = new URL(s.url).host.replace(':', '_');
    assert.equal(res.headers.get('content-disposition'), `attachment; filename="${host}.sxcu"`);
    assert.match(res.headers.get('cache-control') ?? '', /no-store/);
    const config = await res.json() as Sxcu;
    assert.deepEqual(config, {
      Version: '14.0.1',
      Name: `imghost (${new URL(s.url).host})`,
      DestinationType: 'ImageUploader, FileUploader',
      RequestMethod: 'POST',
      RequestURL: `${s.url}/api/images`,
      Body: 'MultipartFormData',
      FileFormName: 'file',
      URL: '{json:url}',
      ThumbnailURL: '{json:thumb_url}',
      DeletionURL: '{json:delete_url}',
      ErrorMessage: '{json:message}',
    });
  });

  it('are linked from the upload page as downloads', async () => {
    const html = await (await s.fetch('/')).text();
    const links = tags(html, 'a').map(attributes).filter((a) => a.href?.startsWith('/api/uploaders/'));
    assert.deepEqual(links.map((a) => [a.href, a.download]), [['/api/uploaders/sharex.sxcu', ''], ['/api/uploaders/imghost.sh', '']]);
    for (const link of links) assert.equal((await s.fetch(link.href ?? '')).status, 200);
  });

  it('uploads as ShareX would, and its URL, thumbnail URL and deletion URL work', async () => {
    const config = await downloadSxcu(s);
    const res = await sendAsSharex(config, png, 'Screenshot 2026-01-02.png');
    assert.equal(res.status, 201);
    const answer: unknown = await res.json();
    const url = sharexSyntax(config.URL, answer);
    const thumb = sharexSyntax(config.ThumbnailURL, answer);
    const deletion = sharexSyntax(config.DeletionURL, answer);
    await assertServes(url, png);
    const thumbRes = await fetch(thumb);
    assert.equal(thumbRes.status, 200);
    assert.match(thumbRes.headers.get('content-type') ?? '', /^image\//);
    const page = await fetch(deletion, { headers: { accept: 'text/html' } });
    assert.equal(page.status, 200);
    assert.match(await page.text(), /Delete this image\?/);
  });

  it("shows ShareX the server's message when a file is refused", async () => {
    const config = await downloadSxcu(s);
    const res = await sendAsSharex(config, Buffer.from('just some text\n'), 'notes.txt');
    assert.equal(res.status, 400);
    assert.equal(sharexSyntax(config.ErrorMessage, await res.json()), 'cannot identify image file');
  });

  it('offers a shell script that bakes in the upload URL and needs no token', async () => {
    const res = await s.fetch('/api/uploaders/imghost.sh');
    assert.match(res.headers.get('content-type') ?? '', /^text\/x-shellscript/);
    assert.equal(res.headers.get('content-disposition'), 'attachment; filename="imghost.sh"');
    const script = await res.text();
    assert.match(script, /^#!\/bin\/sh\n/);
    assert.ok(script.includes(`upload_url='${s.url}/api/images'`));
    assert.ok(script.includes("token=${IMGHOST_TOKEN:-''}"));
  });

  it('uploads a file named on the command line and prints a link that serves it', async () => {
    const script = await downloadScript(s);
    const file = join(s.dataDir, 'my picture; "one".png');
    await writeFile(file, png);
    const run = await runScript(script, [file]);
    assert.equal(run.code, 0, run.stderr);
    const [url = '', ...rest] = run.stdout.split('\n');
    assert.deepEqual(rest, ['']);
    assert.ok(url.startsWith(`${s.url}/imgs/`), url);
    await assertServes(url, png);
    const deletion = /open (\S+)/.exec(run.stderr)?.[1];
    assert.ok(deletion?.startsWith(`${s.url}/d/`), run.stderr);
    const id = /\/imgs\/([^/]+)\//.exec(url)?.[1] ?? '';
    const meta = await (await s.fetch(`/api/images/${id}`)).json() as { name: string };
    assert.equal(meta.name, 'my_picture___one_.png');
  });

  it('uploads what comes on standard input, as `flameshot gui --raw | sh imghost.sh`', async () => {
    const script = await downloadScript(s);
    const run = await runScript(script, [], { stdin: png });
    assert.equal(run.code, 0, run.stderr);
    await assertServes(run.stdout.trim(), png);
  });

  it("fails with the server's message, and no link, for a file that is no image", async () => {
    const script = await downloadScript(s);
    const file = join(s.dataDir, 'notes.txt');
    await writeFile(file, 'just some text\n');
    const run = await runScript(script, [file]);
    assert.notEqual(run.code, 0);
    assert.equal(run.stdout, '');
    const refused = await s.upload(Buffer.from('just some text\n'));
    const { message } = await refused.json() as { message: string };
    assert.equal(run.stderr, `imghost: ${message} (HTTP ${String(refused.status)})\n`);
  });

  it('fails with a clear message when the server cannot be reached', async () => {
    const script = await downloadScript(s);
    const unreachable = script.replace(/\.sh$/, '-gone.sh');
    await writeFile(unreachable, (await readFile(script, 'utf8')).replaceAll(s.url, 'http://127.0.0.1:9'));
    const run = await runScript(unreachable, [], { stdin: png });
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, /could not reach http:\/\/127\.0\.0\.1:9\/api\/images/);
  });
});

describe('uploader configs, on a server that takes uploads with a token', () => {
  // A quote and a space, so the script must quote the token it bakes in.
  const token = "it's a secret";
  let s: TestServer;
  let png: Buffer;
  before(async () => {
    s = await startTestServer({ upload_token: token });
    png = await photo(40, 30, 'png');
  });
  after(() => s.close());

  it('gives a ShareX config with a placeholder, refused until the token replaces it', async () => {
    const config = await downloadSxcu(s);
    assert.deepEqual(config.Headers, { Authorization: 'Bearer YOUR_UPLOAD_TOKEN' });
    const refused = await sendAsSharex(config, png, 'shot.png');
    assert.equal(refused.status, 401);
    assert.equal(sharexSyntax(config.ErrorMessage, await refused.json()), 'the upload token is wrong');
    const filled = { ...config, Headers: { Authorization: `Bearer ${token}` } };
    const res = await sendAsSharex(filled, png, 'shot.png');
    assert.equal(res.status, 201);
    await assertServes(sharexSyntax(config.URL, await res.json()), png);
  });

  it('writes the token into the config only for a request that showed it, and refuses a wrong one', async () => {
    const config = await downloadSxcu(s, { authorization: `Bearer ${token}` });
    assert.deepEqual(config.Headers, { Authorization: `Bearer ${token}` });
    const res = await sendAsSharex(config, png, 'shot.png');
    assert.equal(res.status, 201);
    const wrong = await s.fetch('/api/uploaders/sharex.sxcu', { headers: { authorization: 'Bearer guess' } });
    assert.equal(wrong.status, 401);
    assert.doesNotMatch(await wrong.text(), /secret/);
    const script = await s.fetch('/api/uploaders/imghost.sh', { headers: { authorization: 'Bearer guess' } });
    assert.equal(script.status, 401);
  });

  it('gives a script that asks for the token, sends IMGHOST_TOKEN, and reports a wrong one', async () => {
    const script = await downloadScript(s);
    const asks = await runScript(script, [], { stdin: png });
    assert.notEqual(asks.code, 0);
    assert.match(asks.stderr, /set IMGHOST_TOKEN/);
    const wrong = await runScript(script, [], { stdin: png, env: { IMGHOST_TOKEN: 'guess' } });
    assert.notEqual(wrong.code, 0);
    assert.equal(wrong.stderr, 'imghost: the upload token is wrong (HTTP 401)\n');
    const right = await runScript(script, [], { stdin: png, env: { IMGHOST_TOKEN: token } });
    assert.equal(right.code, 0, right.stderr);
    await assertServes(right.stdout.trim(), png);
  });

  it('gives a script with the token of the request that showed it, which uploads as is', async () => {
    const script = await downloadScript(s, { authorization: `Bearer ${token}` });
    const run = await runScript(script, [], { stdin: png });
    assert.equal(run.code, 0, run.stderr);
    await assertServes(run.stdout.trim(), png);
  });
});

describe('uploader configs, on a server open to all that has users', () => {
  it('carry the user\'s key of a request that showed one, so the uploads are theirs; no other value', async () => {
    const s = await startTestServer();
    try {
      const alice = await addUser(s.server.library.repo.accounts, 'alice');
      const png = await photo(30, 20, 'png');
      const config = await downloadSxcu(s, bearer(alice.key));
      assert.deepEqual(config.Headers, { Authorization: `Bearer ${alice.key}` });
      const res = await sendAsSharex(config, png, 'shot.png');
      assert.equal(res.status, 201);
      assert.equal((await s.server.library.get((await res.json() as UploadedImage).id)).owner, alice.id);
      const run = await runScript(await downloadScript(s, bearer(alice.key)), [], { stdin: png });
      assert.equal(run.code, 0, run.stderr);
      assert.equal((await s.server.library.repo.accounts.usage(alice.id)).images, 2, 'the script uploads as alice');
      assert.equal((await downloadSxcu(s, bearer('ihk_mistyped'))).Headers, undefined, 'a value that is no key is not written');
      assert.equal((await downloadSxcu(s)).Headers, undefined);
    } finally {
      await s.close();
    }
  });
});

describe('uploader configs, on a server with --public_url', () => {
  it('point at the public URL, whatever address they were fetched at', async () => {
    const s = await startTestServer({ public_url: 'https://img.example.com/pics/' });
    try {
      const config = await downloadSxcu(s);
      assert.equal(config.RequestURL, 'https://img.example.com/pics/api/images');
      const res = await s.fetch('/api/uploaders/sharex.sxcu');
      assert.equal(res.headers.get('content-disposition'), 'attachment; filename="img.example.com.sxcu"');
      const script = await (await s.fetch('/api/uploaders/imghost.sh')).text();
      assert.ok(script.includes("upload_url='https://img.example.com/pics/api/images'"));
      const uploaded = await s.uploadOk(await photo(20, 20, 'png')) as UploadedImage & { delete_url: string };
      assert.equal(uploaded.delete_url, `https://img.example.com/pics/d/${uploaded.id}/${uploaded.delete_token}`);
    } finally {
      await s.close();
    }
  });
});
