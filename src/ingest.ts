// The one place an upload becomes an image: receive the bytes to a temporary file while stripping
// their metadata and hashing them, validate from the header, make the thumbnail in the work pool, store original and
// thumbnail in parallel, then make the record visible. Nothing is visible until all of it held.
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { NotAnImage, TooLarge } from './errors.js';
import { removeFilesOlderThan } from './files.js';
import { probe } from './images/probe.js';
import { metadataStripper, stripSpooled } from './images/strip/index.js';
import type { WorkPool } from './images/pool.js';
import { specKey, type ThumbSpec } from './images/thumbnail.js';
import type { MakeThumbnail } from './images/thumbnailer.js';
import type { ImageRecord, ImageRepo, NewImage } from './repo/index.js';
import type { BlobStore } from './store/index.js';

export interface IngestOptions {
  tmpDir: string;
  maxUploadSize: number;
  maxPixels: number;
  thumb: ThumbSpec;
  /** In this process, or in a child process of lower priority (images/thumbnailer.ts). */
  makeThumbnail: MakeThumbnail;
  /** Remove identifying metadata from originals before they are hashed and stored. */
  stripMetadata: boolean;
}

export interface Ingested {
  image: NewImage;
  /** Given to the uploader once; only its hash is kept. */
  deleteToken: string;
}

interface Received { path: string; hash: string; bytes: number }

const WRITE_BATCH = 1024 * 1024;

export const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

/** 96 random bits: ids cannot be guessed, so unlisted images cannot be enumerated. */
export const newId = (): string => randomBytes(12).toString('base64url');

export class Ingest {
  constructor(
    private readonly repo: ImageRepo,
    private readonly store: BlobStore,
    private readonly pool: WorkPool,
    private readonly opts: IngestOptions,
  ) {}

  async init(): Promise<this> {
    await mkdir(this.opts.tmpDir, { recursive: true });
    return this;
  }

  /** Removes spooled uploads of requests that died before `olderThan`. */
  sweep(olderThan: Date): Promise<string[]> {
    return removeFilesOlderThan(this.opts.tmpDir, olderThan);
  }

  /** Fails fast with Busy when the thumbnail queue is full, before a body is read. */
  assertCapacity(): void {
    this.pool.assertCapacity();
  }

  async upload(body: Readable, name: string | null): Promise<Ingested> {
    const received = await this.receive(body);
    try {
      return await this.save(received, name);
    } finally {
      await unlink(received.path).catch(() => undefined);
    }
  }

  private async receive(body: Readable): Promise<Received> {
    const path = join(this.opts.tmpDir, `upload-${randomBytes(8).toString('hex')}`);
    const limit = this.opts.maxUploadSize;
    let received = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        received += chunk.length;
        if (received > limit) { done(new TooLarge(limit)); return; }
        done(null, chunk);
      },
    });
    // What is stored, after stripping: the hash, dedup and ETag describe the stored file. It is
    // written a mebibyte at a time: a socket delivers tens of kilobytes at a time, and each write
    // is a trip through the thread pool that costs more CPU than copying the bytes together.
    const hash = createHash('sha256');
    let bytes = 0;
    const batch: Buffer[] = [];
    let batched = 0;
    const digest = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        bytes += chunk.length;
        hash.update(chunk);
        batch.push(chunk);
        batched += chunk.length;
        if (batched < WRITE_BATCH) { done(); return; }
        batched = 0;
        done(null, Buffer.concat(batch.splice(0)));
      },
      flush(done) {
        done(null, batch.length > 0 ? Buffer.concat(batch) : undefined);
      },
    });
    const stages = this.opts.stripMetadata ? [meter, metadataStripper(), digest] : [meter, digest];
    try {
      await pipeline([body, ...stages, createWriteStream(path)]);
    } catch (err) {
      await unlink(path).catch(() => undefined);
      throw err;
    }
    if (received === 0) {
      await unlink(path).catch(() => undefined);
      throw new NotAnImage();
    }
    return { path, hash: hash.digest('hex'), bytes };
  }

  private async save(spooled: Received, name: string | null): Promise<Ingested> {
    const { maxPixels, thumb: spec, makeThumbnail } = this.opts;
    const info = await probe(spooled.path, maxPixels);
    // The formats the stream could not strip, before anything is derived from their bytes.
    const stripped = this.opts.stripMetadata ? await stripSpooled(spooled.path, info.format) : null;
    const received = { ...spooled, ...stripped };
    const thumbSpec = specKey(spec);
    const duplicate = await this.repo.findDuplicate(received.hash, thumbSpec);
    const makeThumb = () => this.pool.run(() => makeThumbnail(received.path, spec, maxPixels));
    let thumb: ImageRecord['thumb'];
    let thumbData: Buffer | null = null;
    if (duplicate) {
      thumb = duplicate.thumb;
    } else {
      const made = await makeThumb();
      thumbData = made.data;
      thumb = { hash: sha256(made.data), bytes: made.data.length, mime: made.mime, width: made.width, height: made.height };
    }
    const deleteToken = randomBytes(18).toString('base64url');
    const image: NewImage = {
      id: newId(),
      createdAt: new Date(),
      name,
      format: info.format,
      width: info.width,
      height: info.height,
      orig: { hash: received.hash, bytes: received.bytes, mime: info.mime },
      thumb,
      thumbSpec,
      deleteTokenHash: sha256(deleteToken),
    };
    // The pending record goes first: from here on no delete can take these blobs away.
    await this.repo.insertPending(image);
    try {
      await Promise.all([
        this.putMissing(image.orig.hash, image.orig.mime, () => ({ path: received.path })),
        // A duplicate's thumbnail may have been deleted since it was found: then make it again.
        this.putMissing(thumb.hash, thumb.mime, async () => thumbData ?? (await makeThumb()).data),
      ]);
      await this.repo.markReady(image.id);
    } catch (err) {
      // The blobs written so far are orphans now; gc removes them. Through then(): an adapter may
      // throw before returning its promise (SQLite does), and the upload's own error is the one to report.
      await Promise.resolve().then(() => this.repo.remove(image.id)).catch(() => undefined);
      throw err;
    }
    return { image, deleteToken };
  }

  private async putMissing(key: string, mime: string, source: () => { path: string } | Buffer | Promise<Buffer>): Promise<void> {
    if (await this.store.has(key)) return;
    await this.store.put(key, await source(), mime);
  }
}
