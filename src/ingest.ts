// The one place an upload becomes an image: receive the bytes to a temporary file while stripping
// their metadata and hashing them, validate from the header, make the thumbnail in the work pool, store original and
// thumbnail in parallel, then make the record visible. Nothing is visible until all of it held,
// and an upload that fails, is abandoned by its client or loses its pending record leaves nothing.
import { createHash } from 'node:crypto';
import { mkdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BaseLogger } from 'pino';
import { NotAnImage, storageFailure, TakenDown, TooLarge, UploadAbandoned, UploadLost } from './errors.js';
import { batchedFileWriter, removeFilesOlderThan } from './files.js';
import { releaseBlobs } from './gc.js';
import { sha256 } from './hash.js';
import { newId, randomToken, uniqueSuffix } from './ids.js';
import { makePlaceholder } from './images/placeholder.js';
import { probe, type DecodeLimits } from './images/probe.js';
import { metadataStripper, stripSpooled } from './images/strip/index.js';
import type { WorkPool } from './images/pool.js';
import { specKey, type RenditionSpec } from './images/rendition.js';
import type { MakeRendition } from './images/thumbnailer.js';
import { DEFAULT_TERMS, type ImageRecord, type ImageRepo, type ImageTerms, type NewImage } from './repo/index.js';
import type { ReceiveSlots } from './receive-slots.js';
import type { BlobStore } from './store/index.js';
import { UploadLeases } from './upload-lease.js';

export interface IngestOptions {
  tmpDir: string;
  maxUploadSize: number;
  /** What decoding one upload may cost (images/probe.ts). */
  limits: DecodeLimits;
  thumb: RenditionSpec;
  /** In this process, or in a child process of lower priority (images/thumbnailer.ts). */
  makeRendition: MakeRendition;
  /** Remove identifying metadata from originals before they are hashed and stored. */
  stripMetadata: boolean;
  /** Uploads received, probed and stripped at once, in all and from one client. */
  receiving: ReceiveSlots;
  /** Told the bytes of each file received, as sent (before stripping), a refused one's too. */
  onReceived?: (bytes: number) => void;
}

export interface Ingested {
  image: NewImage;
  /** Given to the uploader once; only its hash is kept. */
  deleteToken: string;
}

interface Received { path: string; hash: string; bytes: number }

/** Told when the client goes away before the answer; then the upload is dropped. */
type Abandoned = AbortSignal | undefined;

/** One file of an upload request, read as it arrives; `filename` as the client named it, if it did. */
export interface UploadedFile { stream: Readable; filename: string | null }

/** Who sends an upload, as far as Ingest needs to know. */
export interface Sender {
  /** The client's address key, for the per-client bound on uploads received at once. */
  client?: string;
  abandoned?: AbortSignal;
  /** Where work left running after the answer (eager variants) reports its failures. */
  log?: Pick<BaseLogger, 'warn'>;
  /** Owner, visibility and expiry of the images it sends; DEFAULT_TERMS when not given. */
  terms?: ImageTerms;
}

const WRITE_BATCH = 1024 * 1024;

/** The spooled file is written on the data directory's disk, which may be full or read-only. */
const rethrowAsStorageFailure = (err: unknown): never => { throw storageFailure(err); };

function stopIfAbandoned(abandoned: Abandoned): void {
  if (abandoned?.aborted === true) throw new UploadAbandoned();
}

export class Ingest {
  private readonly leases: UploadLeases;

  constructor(
    private readonly repo: ImageRepo,
    private readonly store: BlobStore,
    private readonly pool: WorkPool,
    private readonly opts: IngestOptions,
  ) {
    this.leases = new UploadLeases(repo);
  }

  async init(): Promise<this> {
    await mkdir(this.opts.tmpDir, { recursive: true });
    return this;
  }

  /** Removes spooled uploads of requests that died before `olderThan`. */
  sweep(olderThan: Date): Promise<string[]> {
    return removeFilesOlderThan(this.opts.tmpDir, olderThan);
  }

  /** Fails fast (Busy, TooManyUploadsAtOnce) when receiving or the thumbnail queue is full, before a body is read. */
  assertCapacity(client?: string): void {
    this.opts.receiving.assertRoom(client);
    this.pool.assertCapacity();
  }

  async upload({ stream: body, filename: name }: UploadedFile, { client, abandoned, terms = DEFAULT_TERMS }: Sender = {}): Promise<Ingested> {
    const slot = this.opts.receiving.take(client);
    const path = join(this.opts.tmpDir, `upload-${uniqueSuffix(8)}`);
    const releaseFile = this.leases.keepFile(path);
    try {
      const spooled = await this.receive(body, path);
      return await this.save(spooled, name, terms, abandoned, slot.received);
    } finally {
      slot.done();
      releaseFile();
      await unlink(path).catch(() => undefined);
    }
  }

  private async receive(body: Readable, path: string): Promise<Received> {
    const limit = this.opts.maxUploadSize;
    let received = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        received += chunk.length;
        if (received > limit) { done(new TooLarge(limit)); return; }
        done(null, chunk);
      },
    });
    // What is stored, after stripping: the hash, dedup and ETag describe the stored file.
    const hash = createHash('sha256');
    let bytes = 0;
    const digest = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        bytes += chunk.length;
        hash.update(chunk);
        done(null, chunk);
      },
    });
    const stages = this.opts.stripMetadata ? [meter, metadataStripper(), digest] : [meter, digest];
    try {
      await pipeline([body, ...stages, batchedFileWriter(path, WRITE_BATCH)]);
    } catch (err) {
      await unlink(path).catch(() => undefined);
      throw storageFailure(err);
    } finally {
      this.opts.onReceived?.(received);
    }
    if (received === 0) {
      await unlink(path).catch(() => undefined);
      throw new NotAnImage();
    }
    return { path, hash: hash.digest('hex'), bytes };
  }

  private async save(spooled: Received, name: string | null, terms: ImageTerms, abandoned: Abandoned, endReceiving: () => void): Promise<Ingested> {
    const { limits, thumb: spec, makeRendition } = this.opts;
    const info = await probe(spooled.path, limits);
    // The formats the stream could not strip, before anything is derived from their bytes.
    const stripped = this.opts.stripMetadata ? await stripSpooled(spooled.path, info.format).catch(rethrowAsStorageFailure) : null;
    endReceiving();
    const received = { ...spooled, ...stripped };
    await this.refuseTakenDown(received.hash);
    const thumbSpec = specKey(spec);
    const duplicate = await this.repo.findDuplicate(received.hash, thumbSpec);
    // A client that left while the upload waited for a slot costs no thumbnail.
    const makeThumb = () => this.pool.run(() => {
      stopIfAbandoned(abandoned);
      return makeRendition(received.path, spec, limits);
    });
    let thumb: ImageRecord['thumb'];
    let thumbData: Buffer | null = null;
    let placeholder: string | null;
    if (duplicate) {
      thumb = duplicate.thumb;
      placeholder = duplicate.placeholder;
    } else {
      const made = await makeThumb();
      thumbData = made.data;
      thumb = { hash: sha256(made.data), bytes: made.data.length, mime: made.mime, width: made.width, height: made.height };
      // Here, once the thumbnail's slot is free: a pipeline of its own costs about as much as a
      // small image's thumbnail, and inside the slot it cut the pool's rate for small uploads.
      placeholder = await makePlaceholder(made.data);
    }
    const deleteToken = randomToken(18);
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
      frames: info.frames,
      placeholder,
      ...terms,
    };
    // The pending record goes first: from here on no delete can take these blobs away, and no gc
    // while its lease is renewed.
    stopIfAbandoned(abandoned);
    await this.repo.insertPending(image);
    const releaseLease = this.leases.keepRecord(image.id);
    try {
      // Again once the pending record counts: a takedown committed since the first look would
      // otherwise miss it, and a takedown committed from now on removes it (markReady then fails).
      await this.refuseTakenDown(image.orig.hash);
      // Both settle before any failure is handled: a put still running would otherwise store
      // its blob after the failed upload took its blobs back.
      const puts = await Promise.allSettled([
        this.putMissing(image.orig.hash, image.orig.mime, () => ({ path: received.path })),
        // A duplicate's thumbnail may have been deleted since it was found: then make it again.
        this.putMissing(thumb.hash, thumb.mime, async () => thumbData ?? (await makeThumb()).data),
      ]);
      for (const put of puts) if (put.status === 'rejected') throw put.reason;
      stopIfAbandoned(abandoned);
      if (!(await this.repo.markReady(image.id))) throw new UploadLost();
    } catch (err) {
      await this.discard(image);
      throw err;
    } finally {
      releaseLease();
    }
    return { image, deleteToken };
  }

  /** Bytes the operator took down are refused wherever they come from (imghost takedown). */
  private async refuseTakenDown(hash: string): Promise<void> {
    if (await this.repo.takedowns.isRefused(hash)) throw new TakenDown();
  }

  /** Removes a failed or abandoned upload's record and the blobs no other image shares. */
  async discard(image: NewImage): Promise<void> {
    // The upload's own error is the one to report. What cannot be removed now, gc removes later.
    await this.repo.remove(image.id).catch(() => undefined);
    await releaseBlobs(this.repo, this.store, [image.orig.hash, image.thumb.hash]).catch(() => undefined);
  }

  private async putMissing(key: string, mime: string, source: () => { path: string } | Buffer | Promise<Buffer>): Promise<void> {
    if (await this.store.has(key)) return;
    await this.store.put(key, await source(), mime);
  }
}
