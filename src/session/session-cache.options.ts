import { parseDuration } from '../utils/duration.js';

/** The longest an entry may be served from the cache without a database read. */
export const MAX_SESSION_CACHE_TTL_SECONDS = 60;

/** `session.cache`: an in-process cache of validated sessions, kept exact by an invalidation channel. */
export interface ArrafAuthSessionCacheOptions {
  /** Most sessions held (least recently used go first). @default 10000 */
  max?: number;
  /** How long an entry may answer without a database read, at most 60 s. @default '30s' */
  ttl?: string | number;
  /**
   * Redis for the invalidation channel between instances (pub/sub). When not set, the Redis of
   * `rateLimit.storage` is used; without one, PostgreSQL `LISTEN/NOTIFY` when the database is
   * PostgreSQL, otherwise invalidation reaches this process only. @default undefined
   */
  redis?: string;
  /**
   * Milliseconds within which the instance's own heartbeat must come back through the channel;
   * past it the cache switches itself off until the channel is back. @default 1000
   */
  maxLag?: number;
}

/** `session.cache` after validation. */
export interface ResolvedSessionCacheOptions {
  enabled: boolean;
  max: number;
  /** Seconds. */
  ttl: number;
  redis: string | undefined;
  /** Milliseconds. */
  maxLag: number;
  /** Milliseconds between heartbeats: a quarter of `maxLag`, so a lagging channel is seen within about `maxLag`. */
  heartbeatInterval: number;
}

type Fail = (path: string, message: string) => never;

const DEFAULTS = { max: 10_000, ttl: 30, maxLag: 1000 };

/** Validates `session.cache` (`true`, `false`, or an options object). */
export function resolveSessionCache(value: unknown, fail: Fail): ResolvedSessionCacheOptions {
  const off = { enabled: false, ...DEFAULTS, redis: undefined, heartbeatInterval: DEFAULTS.maxLag / 4 };
  if (value === undefined || value === false) return off;
  if (value === true) return { ...off, enabled: true };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail('session.cache', 'must be true, false or an object such as { max: 10000, ttl: "30s" }');
  }
  const input = value as Record<string, unknown>;
  const unknown = Object.keys(input).find((k) => !['max', 'ttl', 'redis', 'maxLag'].includes(k));
  if (unknown) fail(`session.cache.${unknown}`, 'is not a known option (max, ttl, redis, maxLag)');
  const max = input.max ?? DEFAULTS.max;
  if (!Number.isInteger(max) || (max as number) < 1 || (max as number) > 10_000_000) {
    fail('session.cache.max', 'must be a whole number between 1 and 10000000');
  }
  const ttl = parseDuration((input.ttl ?? DEFAULTS.ttl) as string | number);
  if (ttl === undefined || ttl < 1 || ttl > MAX_SESSION_CACHE_TTL_SECONDS) {
    fail('session.cache.ttl', `must be between 1 second and ${MAX_SESSION_CACHE_TTL_SECONDS} seconds (e.g. '30s')`);
  }
  const maxLag = input.maxLag ?? DEFAULTS.maxLag;
  if (!Number.isInteger(maxLag) || (maxLag as number) < 20 || (maxLag as number) > 60_000) {
    fail('session.cache.maxLag', 'must be a whole number of milliseconds between 20 and 60000');
  }
  const redis = input.redis;
  if (redis !== undefined && (typeof redis !== 'string' || !/^rediss?:\/\/[^/]/.test(redis))) {
    fail('session.cache.redis', 'must be a URL such as redis://127.0.0.1:6379 (rediss:// for TLS)');
  }
  return {
    enabled: true,
    max: max as number,
    ttl,
    redis: redis as string | undefined,
    maxLag: maxLag as number,
    heartbeatInterval: Math.max(5, Math.floor((maxLag as number) / 4)),
  };
}
