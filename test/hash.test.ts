// SHA-256 as blobs are named by it: the hex digest of a buffer, and of the bytes a stream passed on.
import assert from 'node:assert/strict';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, it } from 'node:test';
import { HashingStream, sha256 } from '../src/hash.js';

// FIPS 180-2's one-block example.
const ABC = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';

describe('sha256', () => {
  it('gives the lowercase hex digest of a string or buffer', () => {
    assert.equal(sha256('abc'), ABC);
    assert.equal(sha256(Buffer.from('abc')), ABC);
  });
});

describe('HashingStream', () => {
  it('passes every byte on unchanged, counts them, and hashes them across chunk boundaries', async () => {
    const hasher = new HashingStream();
    const passed: Buffer[] = [];
    await pipeline(Readable.from([Buffer.from('a'), Buffer.from('bc')]), hasher, new Writable({
      write(chunk: Buffer, _encoding, done) { passed.push(chunk); done(); },
    }));
    assert.equal(Buffer.concat(passed).toString(), 'abc');
    assert.equal(hasher.bytes, 3);
    assert.equal(hasher.sha256(), ABC);
  });
});
