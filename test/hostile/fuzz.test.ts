// Fuzzing the upload path: valid JPEG, PNG, GIF and WebP files mutated at random (bit flips,
// byte sets, deleted and duplicated runs, truncation, splices of two files, and one segment, chunk,
// frame or block repeated up to thousands of times) and posted to the API.
// Every answer must be 201 or a 4xx, never a 5xx or a dropped connection; every 201 is served back
// byte-exact; afterwards the server is ready and holds nothing half-stored.
//
// Seeded, so a failure can be replayed: IMGHOST_FUZZ_SEED=<seed printed below> reruns the same
// inputs, IMGHOST_FUZZ_ITERATIONS=<n> runs longer than the short default CI uses.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { prng } from '../helpers/hostile.js';
import { mutate, mutations } from '../helpers/mutations.js';
import { animatedGif, photo } from '../helpers/images.js';
import { startTestServer, type TestServer, type UploadedImage } from '../helpers/server.js';
import { assertNothingHalfStored, assertServed } from './answers.js';

const seed = Number(process.env.IMGHOST_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 32));
const iterations = Number(process.env.IMGHOST_FUZZ_ITERATIONS ?? 200);

describe('fuzzed uploads', () => {
  let s: TestServer;
  let originals: Buffer[];
  const accepted: UploadedImage[] = [];
  before(async () => {
    s = await startTestServer({ thumb_nice: 10 });
    originals = [await photo(96, 64, 'jpeg'), await photo(96, 64, 'png'), await animatedGif(3, 48, 32), await photo(96, 64, 'webp')];
  });
  after(() => s.close());

  it(`answers every mutated image with 201 or a 4xx and serves each 201 back exactly (seed ${String(seed)})`, async (t) => {
    assert.ok(Number.isInteger(seed) && Number.isInteger(iterations), 'IMGHOST_FUZZ_SEED and IMGHOST_FUZZ_ITERATIONS are integers');
    t.diagnostic(`IMGHOST_FUZZ_SEED=${String(seed)} IMGHOST_FUZZ_ITERATIONS=${String(iterations)}`);
    const random = prng(seed);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
    const statuses = new Map<number, number>();
    for (let i = 0; i < iterations; i++) {
      let data = pick(originals);
      const applied: string[] = [];
      for (let n = 1 + Math.floor(random() * 3); n > 0; n--) {
        const kind = pick(mutations);
        applied.push(kind);
        data = mutate(data, kind, random, pick(originals));
      }
      // Both ways in: a multipart file part, and a raw body.
      const raw = random() < 0.5;
      const what = `seed ${String(seed)} iteration ${String(i)} (${applied.join(', ')}, ${raw ? 'raw' : 'multipart'})`;
      let res: Response;
      try {
        res = raw
          ? await s.fetch('/api/images', { method: 'POST', body: new Uint8Array(data), headers: { 'content-type': 'application/octet-stream' } })
          : await s.upload(data);
      } catch (err) {
        assert.fail(`${what}: the connection failed: ${String(err)}`);
      }
      const text = await res.text();
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      assert.ok(res.status === 201 || (res.status >= 400 && res.status < 500), `${what}: answered ${String(res.status)} ${text}`);
      if (res.status === 201) {
        const image = JSON.parse(text) as UploadedImage;
        accepted.push(image);
        await assertServed(s, image, data, image.mime);
      } else {
        assert.match((JSON.parse(text) as { message: string }).message, /\w/, what);
      }
    }
    t.diagnostic(`answers: ${[...statuses].sort().map(([status, count]) => `${String(status)} x${String(count)}`).join(', ')}`);
    // A fuzzer that only ever produced refusals (or only acceptances) would test one path.
    assert.ok(iterations < 50 || (accepted.length > 0 && accepted.length < iterations), `accepted ${String(accepted.length)} of ${String(iterations)}`);
  });

  it('leaves the server ready with nothing half-stored', async () => {
    await assertNothingHalfStored(s, accepted);
  });
});
