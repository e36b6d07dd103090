// Bounded concurrency for image work: at most `concurrency` jobs run, at most `queueLimit`
// wait, and beyond that callers get Busy (503 + Retry-After) instead of piling up.
import pLimit, { type LimitFunction } from 'p-limit';
import { Busy } from '../errors.js';

export class WorkPool {
  private readonly limit: LimitFunction;

  constructor(concurrency: number, private readonly queueLimit: number) {
    this.limit = pLimit(concurrency);
  }

  /** Throws Busy when no job could be queued now; lets a request fail before its body is read. */
  assertCapacity(): void {
    if (this.limit.activeCount >= this.limit.concurrency && this.limit.pendingCount >= this.queueLimit) {
      throw new Busy(this.retryAfter());
    }
  }

  run<T>(job: () => Promise<T>): Promise<T> {
    this.assertCapacity();
    return this.limit(job);
  }

  /** Whether a job run now would start at once, ahead of nobody. */
  get idle(): boolean { return this.limit.activeCount < this.limit.concurrency && this.limit.pendingCount === 0; }

  get active(): number { return this.limit.activeCount; }
  get waiting(): number { return this.limit.pendingCount; }

  private retryAfter(): number {
    // A rough guess: a queue's worth of jobs at ~50 ms per thumbnail per slot.
    return Math.max(1, Math.ceil((this.limit.pendingCount * 0.05) / this.limit.concurrency));
  }
}
