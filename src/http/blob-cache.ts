// Small blobs (thumbnails, mostly) kept in memory once read, least recently used dropped first.
// Blobs are content-addressed and never change, so an entry is never stale; answering hot
// thumbnails from memory keeps their GETs off libuv's thread pool, which image processing and
// fsyncs keep busy while uploads run.
import { LRUCache } from 'lru-cache';
import type { BlobResponse } from './blob-response.js';

/** The largest blob kept in memory: thumbnails and small originals. */
export const SMALL_BLOB = 256 * 1024;

/** Lookups of every cache in the process, counted plainly and read by the metrics at scrape time. */
export const blobCacheStats = { hits: 0, misses: 0 };

export class SmallBlobCache {
  private readonly entries: LRUCache<string, Buffer>;

  constructor(maxBytes: number, private readonly maxBlob: number) {
    this.entries = new LRUCache({ maxSize: maxBytes, sizeCalculation: (data) => Math.max(1, data.length) });
  }

  fits(bytes: number): boolean {
    return bytes > 0 && bytes <= this.maxBlob;
  }

  async read(blob: BlobResponse): Promise<Buffer> {
    const cached = this.entries.get(blob.hash);
    if (cached) {
      blobCacheStats.hits++;
      return cached;
    }
    blobCacheStats.misses++;
    const data = Buffer.concat(await (await blob.open()).toArray() as Buffer[]);
    // A blob shorter than its record says is damage to report, not something to keep serving.
    if (data.length === blob.bytes) this.entries.set(blob.hash, data);
    return data;
  }
}
