// The object-store blob store: one object per blob at s3://bucket/prefix/<sha256>, on any
// S3-compatible service (AWS, Ceph RGW, MinIO, Garage, R2...). PutObject and
// CompleteMultipartUpload are atomic, so readers see a whole blob or none. S3 has no rename, so a
// removal parks a copy under <prefix>/.deleting/ while it checks references again (FsStore's
// rename into .tmp, done as copy + delete); a removal that died leaves the copy there for read and
// sweep to put back.
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand, CopyObjectCommand, DeleteObjectCommand, GetObjectCommand, HeadBucketCommand,
  HeadObjectCommand, ListMultipartUploadsCommand, paginateListObjectsV2, type S3Client, type _Object,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { Config } from '../config/options.js';
import { BlobMissing, ConfigError } from '../errors.js';
import { uniqueSuffix } from '../ids.js';
import { BLOB_KEY, readRestoringParked, type BlobInfo, type BlobStore, type ByteRange, type SweepReport } from './index.js';
import { s3Client, type S3ClientOptions } from './s3-client.js';
import { failure, isMissing } from './s3-errors.js';

export type S3Options = S3ClientOptions & Pick<Config, 's3_public_url'>;

/** S3's smallest part. Two parts in flight bound the memory an upload takes to ~10 MiB. */
const PART_SIZE = 5 * 1024 * 1024;
const PARTS_IN_FLIGHT = 2;
const PARKING = '.deleting/';

export class S3Store implements BlobStore {
  private constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    /** '' or 'some/prefix/': what every object key of this store starts with. */
    private readonly base: string,
    private readonly publicBase: string | null,
  ) {}

  /** `url` is s3://bucket or s3://bucket/prefix; nothing is asked of the server yet. */
  static open(url: string, opts: S3Options): Promise<S3Store> {
    const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(\/[^?#]*)?$/.exec(url);
    const prefix = (match?.[2] ?? '').replace(/^\/+|\/+$/g, '');
    if (!match?.[1] || prefix.split('/').some((part) => part === '.' || part === '..' || part === PARKING.slice(0, -1))) {
      throw new ConfigError(`option '--store': '${url}' is not s3://bucket or s3://bucket/prefix`);
    }
    if ((opts.s3_access_key_id === '') !== (opts.s3_secret_access_key === '')) {
      throw new ConfigError("options '--s3_access_key_id' and '--s3_secret_access_key' go together");
    }
    if (opts.s3_public_url !== '' && !/^https?:\/\/[^/]/.test(opts.s3_public_url)) {
      throw new ConfigError(`option '--s3_public_url': '${opts.s3_public_url}' is not an http(s) URL`);
    }
    const client = s3Client(opts);
    const publicBase = opts.s3_public_url === '' ? null : opts.s3_public_url.replace(/\/+$/, '');
    return Promise.resolve(new S3Store(client, match[1], prefix === '' ? '' : `${prefix}/`, publicBase));
  }

  /** Closes the kept-alive connections. */
  close(): Promise<void> {
    this.client.destroy();
    return Promise.resolve();
  }

  private objectKey(key: string): string {
    if (!BLOB_KEY.test(key)) throw new Error(`invalid blob key ${key}`);
    return this.base + key;
  }

  private describe(objectKey: string): string {
    return `s3://${this.bucket}/${objectKey}`;
  }

  async ping(): Promise<void> {
    await this.call(`HeadBucket s3://${this.bucket}`, () => this.client.send(new HeadBucketCommand({ Bucket: this.bucket })));
  }

  async has(key: string): Promise<boolean> {
    return this.exists(this.objectKey(key));
  }

  private async exists(objectKey: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: objectKey }));
      return true;
    } catch (err) {
      if (isMissing(err)) return false;
      throw failure(err, `HeadObject ${this.describe(objectKey)}`);
    }
  }

  async put(key: string, source: { path: string } | Buffer, mime?: string): Promise<void> {
    const objectKey = this.objectKey(key);
    // Streamed from disk in parts: at most PARTS_IN_FLIGHT parts are held in memory.
    const body = Buffer.isBuffer(source) ? source : createReadStream(source.path);
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: objectKey, Body: body, ContentType: mime },
      partSize: PART_SIZE,
      queueSize: PARTS_IN_FLIGHT,
    });
    try {
      // Ceph answers CompleteMultipartUpload with an empty ETag, so the answer is not looked at.
      await upload.done();
    } catch (err) {
      throw failure(err, `upload to ${this.describe(objectKey)}`);
    } finally {
      if (!Buffer.isBuffer(body)) body.destroy();
    }
  }

  read(key: string, range?: ByteRange): Promise<Readable> {
    return readRestoringParked(() => this.get(key, range), () => this.restoreParked(key));
  }

  private async get(key: string, range?: ByteRange): Promise<Readable> {
    const objectKey = this.objectKey(key);
    try {
      const { Body } = await this.client.send(new GetObjectCommand({
        Bucket: this.bucket,
        Key: objectKey,
        Range: range ? `bytes=${range.start}-${range.end}` : undefined,
      }));
      if (!(Body instanceof Readable)) throw new Error(`GetObject ${this.describe(objectKey)} answered without a body stream`);
      return Body;
    } catch (err) {
      if (isMissing(err)) throw new BlobMissing(key);
      throw failure(err, `GetObject ${this.describe(objectKey)}`);
    }
  }

  async removeUnlessReferenced(key: string, isReferenced: () => Promise<boolean>): Promise<boolean> {
    const original = this.objectKey(key);
    if (await isReferenced()) return false;
    const parked = `${this.base}${PARKING}${key}.${uniqueSuffix(6)}`;
    try {
      await this.client.send(new CopyObjectCommand({ Bucket: this.bucket, Key: parked, CopySource: this.copySource(original) }));
    } catch (err) {
      if (isMissing(err)) return false;
      throw failure(err, `CopyObject ${this.describe(original)}`);
    }
    await this.remove(original);
    if (await isReferenced()) {
      // An upload of the same bytes began meanwhile: put the blob back.
      await this.unpark(key, parked);
      return false;
    }
    await this.remove(parked);
    return true;
  }

  /** Puts a parked copy back unless the blob was rewritten meanwhile, then drops the copy. */
  private async unpark(key: string, parked: string): Promise<void> {
    const original = this.objectKey(key);
    if (!(await this.exists(original))) {
      try {
        await this.client.send(new CopyObjectCommand({ Bucket: this.bucket, Key: original, CopySource: this.copySource(parked) }));
      } catch (err) {
        // Put back by a reader or a sweep meanwhile.
        if (!isMissing(err)) throw failure(err, `CopyObject ${this.describe(parked)}`);
      }
    }
    await this.remove(parked);
  }

  /** Puts back a copy of `key` that a removal parked; false when there is none. */
  private async restoreParked(key: string): Promise<boolean> {
    let found = false;
    for await (const object of this.objects(`${this.base}${PARKING}${key}.`)) {
      if (object.Key === undefined) continue;
      await this.unpark(key, object.Key);
      found = true;
    }
    return found;
  }

  async* list(): AsyncIterable<BlobInfo> {
    // The delimiter keeps parked copies (under .deleting/) out of the listing.
    for await (const object of this.objects(this.base, '/')) {
      const key = object.Key?.slice(this.base.length) ?? '';
      if (BLOB_KEY.test(key) && object.Size !== undefined && object.LastModified) {
        yield { key, bytes: object.Size, modified: object.LastModified };
      }
    }
  }

  async sweep(olderThan: Date, isReferenced: (key: string) => Promise<boolean>): Promise<SweepReport> {
    const report: SweepReport = { removed: [], restored: [] };
    // Uploads a crash interrupted: their parts are stored (and billed) until aborted.
    let markers: { KeyMarker?: string; UploadIdMarker?: string } = {};
    for (;;) {
      const page = await this.call(`ListMultipartUploads ${this.describe(this.base)}`, () =>
        this.client.send(new ListMultipartUploadsCommand({ Bucket: this.bucket, Prefix: this.base, ...markers })));
      for (const { Key, UploadId, Initiated } of page.Uploads ?? []) {
        if (Key === undefined || UploadId === undefined || !Initiated || Initiated >= olderThan) continue;
        // A put may outlast the cutoff: while a live upload (its leased record) needs a blob
        // that is not there yet, its put is left alone.
        if (await this.stillWanted(Key, isReferenced)) continue;
        try {
          await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key, UploadId }));
          report.removed.push(`${this.describe(Key)} (unfinished upload ${UploadId})`);
        } catch (err) {
          // Completed or aborted meanwhile.
          if ((err as Error).name !== 'NoSuchUpload') throw failure(err, `AbortMultipartUpload ${this.describe(Key)}`);
        }
      }
      if (page.IsTruncated !== true) break;
      markers = { KeyMarker: page.NextKeyMarker, UploadIdMarker: page.NextUploadIdMarker };
    }
    // Copies parked by removals that died half-way: put back if an image needs them.
    for await (const object of this.objects(this.base + PARKING)) {
      if (object.Key === undefined || !object.LastModified || object.LastModified >= olderThan) continue;
      const key = object.Key.slice(this.base.length + PARKING.length).split('.')[0] ?? '';
      if (BLOB_KEY.test(key) && await isReferenced(key)) {
        await this.unpark(key, object.Key);
        report.restored.push(key);
        continue;
      }
      await this.remove(object.Key);
      report.removed.push(this.describe(object.Key));
    }
    return report;
  }

  private async stillWanted(objectKey: string, isReferenced: (key: string) => Promise<boolean>): Promise<boolean> {
    const key = objectKey.slice(this.base.length);
    return BLOB_KEY.test(key) && await isReferenced(key) && !(await this.exists(objectKey));
  }

  publicUrl(key: string): string | null {
    if (this.publicBase === null) return null;
    return `${this.publicBase}/${encodePath(this.objectKey(key))}`;
  }

  private async* objects(prefix: string, delimiter?: string): AsyncIterable<_Object> {
    try {
      for await (const page of paginateListObjectsV2({ client: this.client }, { Bucket: this.bucket, Prefix: prefix, Delimiter: delimiter })) {
        yield* page.Contents ?? [];
      }
    } catch (err) {
      throw failure(err, `ListObjectsV2 ${this.describe(prefix)}`);
    }
  }

  private async remove(objectKey: string): Promise<void> {
    await this.call(`DeleteObject ${this.describe(objectKey)}`, () =>
      this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: objectKey })));
  }

  private copySource(objectKey: string): string {
    return `${this.bucket}/${encodePath(objectKey)}`;
  }

  private async call<T>(what: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (err) {
      throw failure(err, what);
    }
  }
}

const encodePath = (objectKey: string): string => objectKey.split('/').map(encodeURIComponent).join('/');
