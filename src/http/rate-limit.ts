// Upload rate limiting per client IP (--upload_rate_limit per --upload_rate_window), through
// @fastify/rate-limit: on PostgreSQL with one count all nodes share (rate-limit-store.ts), on
// SQLite with the plugin's in-memory store, each process counting on its own. The client IP is
// the socket's peer, or what X-Forwarded-For says when that peer is one of --trusted_proxies
// (Fastify's trustProxy); IPv6 clients are counted per /64, as one host usually holds a whole one.
import fastifyRateLimit from '@fastify/rate-limit';
import type { FastifyInstance, onRequestAsyncHookHandler } from 'fastify';
import type { Config } from '../config/options.js';
import { RateLimited } from '../errors.js';
import type { HitCounter } from '../repo/index.js';
import { sharedStore } from './rate-limit-store.js';

/** Fastify's trustProxy setting for --trusted_proxies: false (the peer is the client) when empty. */
export function trustProxy(config: Pick<Config, 'trusted_proxies'>): string[] | false {
  const list = config.trusted_proxies.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
  return list.length === 0 ? false : list;
}

/**
 * The hooks that count an upload against its client's allowance: shared by every upload route,
 * so the API and the form draw on one allowance. None when the limit is off. Counted in
 * `sharedHits` when the repository has them, in memory otherwise.
 */
export async function uploadRateLimit(
  app: FastifyInstance, config: Pick<Config, 'upload_rate_limit' | 'upload_rate_window'>, sharedHits?: HitCounter,
): Promise<onRequestAsyncHookHandler[]> {
  if (config.upload_rate_limit === 0) return [];
  await app.register(fastifyRateLimit, sharedHits === undefined
    ? { global: false }
    : { global: false, store: sharedStore(sharedHits, 'uploads:', app.log), skipOnError: true });
  const limit = app.rateLimit({
    max: config.upload_rate_limit,
    timeWindow: config.upload_rate_window * 1000,
    // Thrown, so the one error handler answers 429 in the usual shape (JSON, or the error page).
    errorResponseBuilder: (_request, context) => new RateLimited(Math.max(1, Math.ceil(context.ttl / 1000))),
  });
  return [limit];
}
