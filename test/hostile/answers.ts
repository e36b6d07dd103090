// What the hostile-input tests expect of every answer: a refusal is a 4xx in the JSON error shape,
// an acceptance is served back byte for byte with the detected type, and once a suite is done
// nothing half-stored is left (no record, blob or temporary file beyond the accepted images).
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import type { TestServer, UploadedImage } from '../helpers/server.js';
import { strippedBytes } from '../helpers/stripped.js';

export interface ErrorJson { status: number; error: string; message: string }

/** Asserts `res` is the JSON error `status` whose message matches `message`, with nosniff. */
export async function assertRefusal(res: Response, status: number, message: RegExp, what = ''): Promise<ErrorJson> {
  const text = await res.text();
  assert.equal(res.status, status, `${what}: ${text}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/, what);
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff', what);
  const body = JSON.parse(text) as ErrorJson;
  assert.equal(body.status, status, what);
  assert.match(body.error, /^[A-Z_]+$/, what);
  assert.match(body.message, message, what);
  return body;
}

/**
 * Asserts an accepted upload is served back exactly: the original byte for byte (less its
 * metadata, with --strip_metadata) as `mime` with nosniff and a sandbox, and a thumbnail that
 * decodes within the thumbnail box.
 */
export async function assertServed(s: TestServer, image: UploadedImage, original: Buffer, mime: string): Promise<void> {
  assert.equal(image.mime, mime);
  const res = await s.fetch(image.url);
  const body = Buffer.from(await res.arrayBuffer());
  assert.equal(res.status, 200);
  const stored = s.config.strip_metadata ? await strippedBytes(original, image.format) : original;
  assert.ok(body.equals(stored), `${image.id} is served byte-exact`);
  assert.equal(res.headers.get('content-type'), mime);
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
  assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'none'; sandbox/);
  const thumb = await s.fetch(image.thumb_url);
  const thumbBytes = Buffer.from(await thumb.arrayBuffer());
  assert.equal(thumb.status, 200);
  assert.equal(thumb.headers.get('content-type'), image.thumb.mime);
  const meta = await sharp(thumbBytes).metadata();
  assert.deepEqual([meta.width, meta.height], [image.thumb.width, image.thumb.height]);
  assert.ok(Math.max(meta.width, meta.height) <= s.config.thumb_size);
}

/** Uploads `data` and, should it be accepted, asserts it is served back exactly; returns the answer. */
export async function uploadAndCheck(s: TestServer, data: Buffer, filename = 'image.bin'): Promise<{ status: number; image?: UploadedImage; error?: ErrorJson }> {
  const res = await s.upload(data, { filename });
  const text = await res.text();
  assert.ok(res.status === 201 || (res.status >= 400 && res.status < 500), `answered ${String(res.status)}: ${text}`);
  if (res.status !== 201) return { status: res.status, error: JSON.parse(text) as ErrorJson };
  const image = JSON.parse(text) as UploadedImage;
  await assertServed(s, image, data, image.mime);
  return { status: 201, image };
}

async function filesUnder(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true });
    return entries.filter((e) => e.isFile()).map((e) => e.name).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/**
 * Asserts the library holds exactly the images in `accepted`, all ready, with exactly their blobs
 * on disk and no temporary file, and that the server still answers /readyz with 200.
 */
export async function assertNothingHalfStored(s: TestServer, accepted: readonly Pick<UploadedImage, 'id'>[]): Promise<void> {
  const ready = await s.fetch('/readyz');
  await ready.arrayBuffer();
  assert.equal(ready.status, 200);
  const { repo } = s.server.library;
  const records = await repo.list(accepted.length + 100);
  assert.deepEqual(records.map((r) => r.id).sort(), accepted.map((i) => i.id).sort(), 'records are exactly the accepted images');
  assert.deepEqual(await repo.stalePending(new Date(Date.now() + 3_600_000)), [], 'no record is left pending');
  const referenced = [...await repo.referencedHashes()].sort();
  assert.deepEqual(referenced, [...new Set(records.flatMap((r) => [r.orig.hash, r.thumb.hash]))].sort());
  const blobs = (await filesUnder(join(s.dataDir, 'blobs'))).filter((name) => /^[0-9a-f]{64}$/.test(name));
  assert.deepEqual(blobs, referenced, 'the blobs on disk are exactly those the records use');
  assert.deepEqual(await filesUnder(join(s.dataDir, 'tmp')), [], 'no spooled upload is left');
  assert.deepEqual(await filesUnder(join(s.dataDir, 'blobs', '.tmp')), [], 'no blob is left half-written');
}
