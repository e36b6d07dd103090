// A @fastify/rate-limit store over the repository's shared hit counts (PostgreSQL), so that every
// node draws on one allowance per client instead of each counting on its own.
import type { FastifyBaseLogger } from 'fastify';
import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import type { HitCounter } from '../repo/index.js';

/**
 * The store's constructor, as the plugin wants it (it calls `new Store(options)`), counting under
 * `prefix` (which names the limit, so limits never share a count).
 *
 * A failed count fails open: the error goes to the plugin, told by skipOnError to let the request
 * through, and is logged here. The limit guards against abuse; refusing every upload while the
 * count cannot be taken would turn a database hiccup into an outage of uploads, and an upload
 * that truly needs the database gets its own 503 further on.
 */
export function sharedStore(counter: HitCounter, prefix: string, log: FastifyBaseLogger): FastifyRateLimitStoreCtor {
  return class SharedStore implements FastifyRateLimitStore {
    incr(key: string, callback: (error: Error | null, result?: { current: number; ttl: number }) => void, timeWindow: number): void {
      counter.countHit(prefix, key, timeWindow).then(
        ({ hits, ttlMs }) => { callback(null, { current: hits, ttl: ttlMs }); },
        (err: unknown) => {
          log.warn({ err, limit: prefix }, 'rate limit count failed; the request goes uncounted');
          callback(err instanceof Error ? err : new Error(String(err)));
        },
      );
    }

    // One limit per store: a route's own settings change the window, not whose count it is.
    child(): FastifyRateLimitStore {
      return this;
    }
  };
}
