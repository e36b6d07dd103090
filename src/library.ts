// The image library: the service the HTTP routes and CLI commands call. It owns the stores,
// the work pool and the upload pipeline, and knows nothing of HTTP.
import { timingSafeEqual } from 'node:crypto';
import { resolve } from 'node:path';
import type { Readable } from 'node:stream';
import type { Config } from './config/options.js';
import { aboutFile, Gone, NotFound, NotYours, UploadAbandoned, WrongDeleteToken } from './errors.js';
import { collectGarbage, releaseBlobs, removeExpired, type GcReport } from './gc.js';
import { WorkPool } from './images/pool.js';
import { decodeLimits } from './images/probe.js';
import { makeRendition, squareSpec } from './images/rendition.js';
import { Thumbnailer } from './images/thumbnailer.js';
import { sha256 } from './hash.js';
import { isId } from './ids.js';
import type { Metrics } from './metrics.js';
import { Ingest, type Ingested, type Sender, type UploadedFile } from './ingest.js';
import { ReceiveSlots } from './receive-slots.js';
import { DEFAULT_TERMS, type ImageRecord, type ImageRepo, type ImageTerms, type VariantRecord } from './repo/index.js';
import { openRepo, openStore, type StorageOptions } from './open-storage.js';
import type { BlobStore, ByteRange } from './store/index.js';
import { timedRepo, timedStore } from './timed-storage.js';
import { Variants, type VariantRequest } from './variants/service.js';
import { parseEagerVariants, parseVariants } from './variants/spec.js';

export type Variant = 'orig' | 'thumb';

const EXPIRED = 'this image expired';
const VIEWS_USED_UP = 'this image has been viewed as many times as its uploader allowed';
const TAKEN_DOWN = 'this image was taken down';
const ORIGINAL_ONLY = 'this image has a view limit: it is served only as its original (/imgs/<id>/orig), each GET counted, and has no other sizes';

export type LibraryOptions = StorageOptions & Pick<Config,
  'max_upload_size' | 'max_pixels' | 'decode_budget' | 'thumb_timeout' | 'max_jpeg_scans' | 'max_frames' | 'thumb_size' | 'thumb_format'
  | 'thumb_concurrency' | 'thumb_nice' | 'queue_limit' | 'max_receiving' | 'max_uploads_per_client' | 'gc_grace' | 'strip_metadata'
  | 'variants' | 'eager_variants' | 'avif' | 'public_listing'>;

export class Library {
  private constructor(
    readonly repo: ImageRepo,
    readonly store: BlobStore,
    private readonly ingest: Ingest,
    private readonly graceMs: number,
    private readonly thumbnailer: Thumbnailer | null,
    readonly variants: Variants,
    /** What an upload is, unless it says otherwise: unlisted on a server that lists nothing, so it stays so if listing is turned on. */
    readonly defaultTerms: ImageTerms,
  ) {}

  /** With `metrics`, the stores, encodes, work pool and received bytes are measured into it. */
  static async open(opts: LibraryOptions, metrics?: Metrics): Promise<Library> {
    const sizes = parseVariants(opts.variants);
    const eager = parseEagerVariants(opts.eager_variants, sizes);
    const opened = await openRepo(opts);
    const repo = metrics ? timedRepo(opened, metrics) : opened;
    try {
      const store = metrics ? timedStore(await openStore(opts), metrics) : await openStore(opts);
      const pool = new WorkPool(opts.thumb_concurrency, opts.queue_limit);
      metrics?.watchPool(pool);
      const thumbnailer = opts.thumb_nice > 0 ? new Thumbnailer(opts.thumb_nice, opts.thumb_concurrency, opts.decode_budget) : null;
      const make = thumbnailer?.make ?? makeRendition;
      const tmpDir = resolve(opts.data_dir, 'tmp');
      const limits = decodeLimits(opts);
      const ingest = await new Ingest(repo, store, pool, {
        makeRendition: metrics?.timedEncodes(make, 'thumbnail') ?? make,
        onReceived: metrics ? (bytes) => { metrics.receivedBytes.inc(bytes); } : undefined,
        tmpDir,
        maxUploadSize: opts.max_upload_size,
        limits,
        thumb: squareSpec(opts.thumb_size, opts.thumb_format),
        stripMetadata: opts.strip_metadata,
        receiving: new ReceiveSlots(opts.max_receiving, opts.max_uploads_per_client),
      }).init();
      const variants = new Variants(repo, store, pool, { sizes, eager, avif: opts.avif, limits, tmpDir, makeRendition: metrics?.timedEncodes(make, 'variant') ?? make });
      return new Library(repo, store, ingest, opts.gc_grace * 1000, thumbnailer, variants, { ...DEFAULT_TERMS, unlisted: !opts.public_listing });
    } catch (err) {
      await repo.close();
      throw err;
    }
  }

  /**
   * Stores each file of one request as it arrives. Fails fast (Busy, TooManyUploadsAtOnce) before
   * the first file is read when receiving or the thumbnail queue is full. One request gets one
   * answer: when a file fails, or the client has left by the end, the images stored before it are
   * removed too, since nobody would learn their links or delete tokens.
   */
  async upload(files: AsyncIterable<UploadedFile>, sender: Sender = {}): Promise<Ingested[]> {
    this.ingest.assertCapacity(sender.client);
    const stored: Ingested[] = [];
    try {
      for await (const file of files) {
        stored.push(await this.ingest.upload(file, sender).catch((err: unknown) => { throw aboutFile(err, file.filename); }));
      }
      if (sender.abandoned?.aborted === true) throw new UploadAbandoned();
      // In the background, once the answer is on its way: it never waits for them, nor fails by them.
      // A view-limited image has none: a variant would serve its pixels uncounted.
      setImmediate(() => { for (const { image } of stored) if (image.maxViews === null) void this.variants.prepare(image, sender.log); });
      return stored;
    } catch (err) {
      await Promise.all(stored.map(({ image }) => this.ingest.discard(image)));
      throw err;
    }
  }

  /** The image an id names: NotFound, or Gone once it expired or its views are used up (every route that takes an id). */
  async get(id: string): Promise<ImageRecord> {
    const image = await this.stored(id);
    // Views first: the last view brings the expiry forward, and its visitors should learn why.
    if (image.maxViews !== null && await this.repo.visibility.viewsUsedUp(id)) throw new Gone(VIEWS_USED_UP);
    if (image.expiresAt !== null && image.expiresAt.getTime() <= Date.now()) throw new Gone(EXPIRED);
    return image;
  }

  /** The image an id names, expired or used up or not (to delete it): NotFound, or Gone when taken down. */
  private async stored(id: string): Promise<ImageRecord> {
    const image = isId(id) ? await this.repo.get(id) : null;
    if (image) return image;
    // More lookups, on the not-found path only: the links of an image taken down or swept after
    // its end say why it went.
    if (!isId(id)) throw new NotFound();
    if (await this.repo.takedowns.removedBy(id)) throw new Gone(TAKEN_DOWN);
    const ended = await this.repo.visibility.ended(id);
    if (ended) throw new Gone(ended.viewsUsedUp ? VIEWS_USED_UP : EXPIRED);
    throw new NotFound();
  }

  /**
   * Spends one view of an image with a view limit, just before its original is sent (GET only):
   * Gone when none is left, however many requests and nodes ask at once.
   */
  async countView(image: ImageRecord): Promise<void> {
    if (image.maxViews !== null && !(await this.repo.visibility.countView(image.id))) throw new Gone(VIEWS_USED_UP);
  }

  /** The public listing: listed images that have neither expired nor a view limit. */
  list(limit: number, before?: number): Promise<ImageRecord[]> {
    return this.repo.visibility.listed(limit, before);
  }

  read(image: ImageRecord, variant: Variant, range?: ByteRange): Promise<Readable> {
    return this.store.read(image[variant].hash, range);
  }

  /**
   * The variant a request asks for, made now if need be (Busy when the work pool is full);
   * NotFound for a view-limited image, whose pixels are served only as its counted original.
   */
  async variant(image: ImageRecord, request: VariantRequest): Promise<VariantRecord> {
    if (image.maxViews !== null) throw new NotFound(ORIGINAL_ONLY);
    return this.variants.get(image, request);
  }

  /** The variant made again, its blob having gone missing since it was recorded. */
  remakeVariant(image: ImageRecord, missing: VariantRecord, request: VariantRequest): Promise<VariantRecord> {
    return this.variants.remake(image, missing, request);
  }

  readVariant(variant: VariantRecord, range?: ByteRange): Promise<Readable> {
    return this.store.read(variant.hash, range);
  }

  /** The file of the blob `hash` relative to the store's root; null when the store keeps no files (S3). */
  localPath(hash: string): string | null {
    return this.store.localPath?.(hash) ?? null;
  }

  /** Where the store publishes this blob itself, if it does (S3 with s3_public_url). */
  publicUrl(image: ImageRecord, variant: Variant): string | null {
    return this.store.publicUrl?.(image[variant].hash) ?? null;
  }

  /**
   * The image whose delete token `token` is, even expired or used up (it may be deleted before the
   * sweep takes it): NotFound for no image, WrongDeleteToken for another token.
   */
  async withDeleteToken(id: string, token: string): Promise<ImageRecord> {
    const image = await this.stored(id);
    const given = Buffer.from(sha256(token));
    if (!timingSafeEqual(given, Buffer.from(image.deleteTokenHash))) throw new WrongDeleteToken();
    return image;
  }

  async delete(id: string, token: string): Promise<void> {
    await this.remove(await this.withDeleteToken(id, token));
  }

  /** Deletes an image for its owner (by their API key), with no delete token: NotYours for another's image. */
  async deleteOwned(id: string, owner: string): Promise<void> {
    const image = await this.stored(id);
    if (image.owner !== owner) throw new NotYours();
    await this.remove(image);
  }

  /** Deletes an image, and the blobs and variants no other image uses; NotFound when it is already gone. */
  async remove(image: ImageRecord): Promise<void> {
    if (!(await this.repo.remove(image.id))) throw new NotFound();
    // Variants belong to the original: they go with the last image that has it.
    const variants = await this.repo.removeOrphanVariants(image.orig.hash);
    await releaseBlobs(this.repo, this.store, [image.orig.hash, image.thumb.hash, ...variants.map((v) => v.hash)]);
  }

  /** Which dependencies answer; for /readyz. */
  async readiness(): Promise<Record<'db' | 'store', boolean>> {
    const answers = (ping: Promise<void>) => ping.then(() => true, () => false);
    const [db, store] = await Promise.all([answers(this.repo.ping()), answers(this.store.ping())]);
    return { db, store };
  }

  /** Removes the images past their expiry, and their blobs and variants no other image uses; their ids. */
  removeExpired(): Promise<string[]> {
    return removeExpired(this.repo, this.store);
  }

  collectGarbage(graceMs = this.graceMs): Promise<GcReport> {
    return collectGarbage(this.repo, this.store, (cutoff) => this.ingest.sweep(cutoff), graceMs);
  }

  async close(): Promise<void> {
    await Promise.all([this.repo.close(), this.store.close(), this.thumbnailer?.close()]);
  }
}
