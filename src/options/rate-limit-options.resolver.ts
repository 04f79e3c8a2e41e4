import {
  DEFAULT_RATE_LIMITS,
  DEFAULT_REDIS_COMMAND_TIMEOUT_MS,
  RATE_LIMIT_RULES,
  type RateLimitRule,
  type RateLimitRuleLimit,
} from '../rate-limit/rate-limit.constants.js';
import type { ResolvedArrafAuthOptions } from './arraf-auth-options.interface.js';
import { duration, fail, integer, isPlainObject, objectAt, rejectUnknown } from './option-checks.js';

type ResolvedRateLimit = ResolvedArrafAuthOptions['rateLimit'];

/** `rateLimit`: where counters live, and each rule's limit and window over its default. */
export function resolveRateLimit(value: unknown): ResolvedRateLimit {
  const rateLimit = objectAt('rateLimit', value);
  rejectUnknown('rateLimit', rateLimit, ['storage', 'limits']);
  const storage = resolveStorage(rateLimit.storage);
  const overrides = objectAt('rateLimit.limits', rateLimit.limits);
  rejectUnknown('rateLimit.limits', overrides, [...RATE_LIMIT_RULES]);
  const limits = {} as Record<RateLimitRule, RateLimitRuleLimit>;
  for (const rule of RATE_LIMIT_RULES) {
    const path = `rateLimit.limits.${rule}`;
    const override = objectAt(path, overrides[rule]);
    rejectUnknown(path, override, ['limit', 'window']);
    limits[rule] = {
      limit: integer(`${path}.limit`, override.limit, DEFAULT_RATE_LIMITS[rule].limit, 1, 1_000_000),
      window: duration(`${path}.window`, override.window, DEFAULT_RATE_LIMITS[rule].window)!,
    };
  }
  return { storage, limits };
}

function resolveStorage(storage: unknown): ResolvedRateLimit['storage'] {
  if (storage === undefined || storage === 'memory') return { type: 'memory' };
  if (!isPlainObject(storage)) fail('rateLimit.storage', "must be 'memory' or { redis: 'redis://host:6379' }");
  rejectUnknown('rateLimit.storage', storage, ['redis', 'commandTimeout']);
  const url = storage.redis;
  const parsed = typeof url === 'string' ? URL.parse(url) : null;
  if (!parsed || (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') || !parsed.hostname) {
    fail('rateLimit.storage.redis', 'must be a URL such as redis://127.0.0.1:6379 (rediss:// for TLS)');
  }
  const commandTimeout = integer(
    'rateLimit.storage.commandTimeout',
    storage.commandTimeout,
    DEFAULT_REDIS_COMMAND_TIMEOUT_MS,
    50,
    60_000,
  );
  return { type: 'redis', url: url as string, commandTimeout };
}
