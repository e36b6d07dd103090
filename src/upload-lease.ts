// What keeps an upload's leftovers-to-be safe from gc while the upload is alive: every few
// seconds, the leases of its pending records are renewed and its spooled files are touched.
// gc only takes pending records whose lease ran out and files untouched for longer than a lease,
// so a live upload loses nothing, however short gc_grace is; a dead one stops renewing.
import { utimes } from 'node:fs/promises';
import { PENDING_LEASE, type ImageRepo } from './repo/index.js';

export interface Lease { durationMs: number; renewEveryMs: number }

export class UploadLeases {
  private readonly files = new Set<string>();
  private readonly records = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private beating = false;

  constructor(private readonly repo: Pick<ImageRepo, 'renewLeases'>, private readonly lease: Lease = PENDING_LEASE) {}

  /** Keeps the file's modification time fresh until the returned function is called. */
  keepFile(path: string): () => void {
    return this.keep(this.files, path);
  }

  /** Renews the pending record's lease until the returned function is called. */
  keepRecord(id: string): () => void {
    return this.keep(this.records, id);
  }

  private keep(set: Set<string>, item: string): () => void {
    set.add(item);
    // Unref'd: a lease never keeps a process alive.
    this.timer ??= setInterval(() => { void this.beat(); }, this.lease.renewEveryMs).unref();
    return () => {
      set.delete(item);
      if (this.files.size === 0 && this.records.size === 0 && this.timer) {
        clearInterval(this.timer);
        this.timer = null;
      }
    };
  }

  private async beat(): Promise<void> {
    // A renewal slower than the period (a database timeout) is not stacked up behind.
    if (this.beating) return;
    this.beating = true;
    try {
      const now = new Date();
      // A file gone (moved into the store, removed on failure) needs no touching.
      await Promise.all([...this.files].map((path) => utimes(path, now, now).catch(() => undefined)));
      // A failed renewal is retried at the next beat; if the lease runs out meanwhile, the
      // upload finds its record gone at markReady and fails instead of being acknowledged.
      if (this.records.size > 0) await this.repo.renewLeases([...this.records], this.lease.durationMs).catch(() => undefined);
    } finally {
      this.beating = false;
    }
  }
}
