// Variants made on first request: the original is copied out of the blob store into a temporary
// file and resized and encoded by the thumbnail maker (in its child process, with its deadline
// and memory limit) through the thumbnails' bounded work pool, so a flood of first requests gets
// 503 + Retry-After rather than piling up. The result is stored content-addressed and recorded
// by (original hash, spec), so every image with that original shares it. Eager variants
// (--eager_variants) are made the same way right after an upload, when the pool has room.
import type { BaseLogger } from 'pino';
import { LRUCache } from 'lru-cache';
import { AppError, Busy, ImageTooComplex, NotAnImage, NotFound, OverDecodeBudget, TooManyPixels } from '../errors.js';
import { sha256 } from '../hash.js';
import type { WorkPool } from '../images/pool.js';
import type { DecodeLimits } from '../images/probe.js';
import { specKey, squareSpec, type RenditionSpec } from '../images/rendition.js';
import type { MakeRendition } from '../images/thumbnailer.js';
import type { ImageRepo, NewImage, VariantRecord } from '../repo/index.js';
import { withLocalCopy, type BlobStore } from '../store/index.js';
import { BROWSER_ACCEPT, formatOfExtension, negotiatedRequest, specFor, type VariantRequest } from './spec.js';

export type { VariantRequest } from './spec.js';

export interface VariantsOptions {
  /** Named boxes (--variants): name -> longest side. */
  sizes: ReadonlyMap<string, number>;
  /** Names made right after an upload (--eager_variants). */
  eager: readonly string[];
  /** Whether AVIF is offered to clients that accept it (--avif). */
  avif: boolean;
  limits: DecodeLimits;
  tmpDir: string;
  makeRendition: MakeRendition;
}

const keyOf = (origHash: string, spec: RenditionSpec): string => `${origHash} ${specKey(spec)}`;

/** Eager variants waiting at most: past it an upload's are left to their first request. */
const EAGER_QUEUE = 1000;
/** How long a variant an image could not give is answered from memory. */
const FAILURE_MEMORY_MS = 10 * 60_000;
/** Failures that are the image's own: another try would fail the same way. */
const IMAGE_FAULTS = [NotAnImage, ImageTooComplex, OverDecodeBudget, TooManyPixels];

interface EagerJob { image: VariantSource & Pick<NewImage, 'id'>; name: string; log: Pick<BaseLogger, 'warn'> | undefined }

/** What a variant needs to know of its image: the original, and whether it is animated. */
export type VariantSource = Pick<NewImage, 'orig' | 'format' | 'frames'>;

export class Variants {
  /** Encodes this process has started: each first request of a variant costs one, and only one. */
  encodes = 0;
  /** Single flight: concurrent first requests of one variant wait for the same encode. */
  private readonly making = new Map<string, Promise<VariantRecord>>();
  /**
   * Variants the image could not give (too complex, undecodable), answered again without another
   * encode for a while: asking for one again must not cost another thumb_timeout of a slot.
   */
  private readonly failures = new LRUCache<string, AppError>({ max: 10_000, ttl: FAILURE_MEMORY_MS });
  /**
   * Records looked up or made, so a cached variant's GET asks the database nothing more than its
   * image's GET does. A variant never changes; one whose blob has gone since (deleted with its last
   * image, forgotten by `verify --repair`) is found missing when read, and made again (remake).
   */
  private readonly records = new LRUCache<string, VariantRecord>({ max: 10_000 });
  private readonly eager: EagerJob[] = [];
  private draining: Promise<void> | null = null;

  constructor(
    private readonly repo: ImageRepo,
    private readonly store: BlobStore,
    private readonly pool: WorkPool,
    private readonly opts: VariantsOptions,
  ) {}

  /** The spec a name (and extension, if any) asks for; NotFound for a name or extension not offered. */
  request(name: string, ext: string | undefined, accept: string | undefined): VariantRequest {
    const size = this.opts.sizes.get(name);
    if (size === undefined) throw new NotFound('no such variant');
    if (ext === undefined) return negotiatedRequest(squareSpec(size, 'family'), accept, this.opts.avif);
    const format = formatOfExtension(ext);
    if (format === undefined) throw new NotFound('no such variant format');
    return { spec: squareSpec(size, format), negotiated: false };
  }

  /**
   * The variant of this image, made now if it was never made. An animated image's spec is
   * adapted to it (specFor). Whether its blob is still there is learnt when it is read: see remake.
   */
  async get(image: VariantSource, request: VariantRequest): Promise<VariantRecord> {
    const spec = specFor(image, request);
    const key = keyOf(image.orig.hash, spec);
    const record = this.records.get(key) ?? await this.repo.getVariant(image.orig.hash, specKey(spec)) ?? await this.makeOnce(image.orig.hash, spec, null);
    this.records.set(key, record);
    return record;
  }

  /** Makes again a recorded variant whose blob has gone missing (a store migrated or restored without it). */
  async remake(image: VariantSource, missing: VariantRecord, request: VariantRequest): Promise<VariantRecord> {
    const spec = specFor(image, request);
    // The database may name another blob than the one found missing (made again by another
    // process, or the record this process remembered is older): that one stands if it is there.
    const recorded = await this.repo.getVariant(image.orig.hash, specKey(spec));
    const made = recorded && recorded.hash !== missing.hash && await this.store.has(recorded.hash)
      ? recorded
      : await this.makeOnce(image.orig.hash, spec, recorded ?? missing);
    this.records.set(keyOf(image.orig.hash, spec), made);
    return made;
  }

  private makeOnce(origHash: string, spec: RenditionSpec, stale: VariantRecord | null): Promise<VariantRecord> {
    const key = keyOf(origHash, spec);
    const failed = this.failures.get(key);
    if (failed) return Promise.reject(failed);
    let made = this.making.get(key);
    if (!made) {
      made = this.make(origHash, spec, stale)
        .catch((err: unknown) => {
          if (err instanceof AppError && IMAGE_FAULTS.some((fault) => err instanceof fault)) this.failures.set(key, err);
          throw err;
        })
        .finally(() => { this.making.delete(key); });
      this.making.set(key, made);
    }
    return made;
  }

  /**
   * Queues the eager variants of a new upload, in the format a current browser is given (AVIF
   * when --avif is on, else WebP; WebP for an animation). One queue for the process, made one at a
   * time and only into an idle pool: under load they are dropped, to be made on first request.
   * Never throws; settles when the queue has drained.
   */
  prepare(image: VariantSource & Pick<NewImage, 'id'>, log?: Pick<BaseLogger, 'warn'>): Promise<void> {
    for (const name of this.opts.eager) {
      if (this.eager.length < EAGER_QUEUE) this.eager.push({ image, name, log });
    }
    this.draining ??= this.drainEager().finally(() => { this.draining = null; });
    return this.draining;
  }

  private async drainEager(): Promise<void> {
    for (let next = this.eager.shift(); next; next = this.eager.shift()) {
      if (!this.pool.idle) continue;
      const { image, name, log } = next;
      try {
        await this.get(image, this.request(name, undefined, BROWSER_ACCEPT));
      } catch (err) {
        if (!(err instanceof Busy)) log?.warn({ err, id: image.id, variant: name }, 'eager variant failed');
      }
    }
  }

  private make(origHash: string, spec: RenditionSpec, stale: VariantRecord | null): Promise<VariantRecord> {
    return this.pool.run(() => withLocalCopy(this.store, origHash, this.opts.tmpDir, 'variant', async (path) => {
      this.encodes++;
      const made = await this.opts.makeRendition(path, spec, this.opts.limits);
      const hash = sha256(made.data);
      await this.store.put(hash, made.data, made.mime);
      // Another encoder version may give other bytes: the record must then name the new blob.
      if (stale && stale.hash !== hash) await this.repo.removeVariant(origHash, stale.spec, stale.hash);
      const { data, ...size } = made;
      return await this.repo.insertVariant({ origHash, spec: specKey(spec), hash, bytes: data.length, ...size, createdAt: new Date() });
    }));
  }
}
