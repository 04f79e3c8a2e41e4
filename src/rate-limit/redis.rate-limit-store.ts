import { Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { Redis, RedisOptions } from 'ioredis';
import { sha256 } from '../crypto/crypto.util.js';
import { ArrafAuthException } from '../errors/arraf-auth.exception.js';
import { DEFAULT_REDIS_COMMAND_TIMEOUT_MS } from './rate-limit.constants.js';
import type { RateLimitHit, RateLimitStore } from './rate-limit-store.interface.js';

/**
 * One round trip, atomic in Redis: count the hit, start the window on the first one, and return
 * the count with the milliseconds left. A key that somehow lost its expiry gets one again, so a
 * counter can never block forever.
 */
const HIT_SCRIPT = `
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if count == 1 or ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return { count, ttl }
`;

const PEEK_SCRIPT = `
local count = redis.call('GET', KEYS[1])
if not count then return false end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then return false end
return { tonumber(count), ttl }
`;

/** Takes back one hit of an open window: DECR keeps the expiry; a missing or zero key stays as it is. */
const RELEASE_SCRIPT = `
local count = tonumber(redis.call('GET', KEYS[1]))
if count and count > 0 then redis.call('DECR', KEYS[1]) end
return 0
`;

const KEY_PREFIX = 'arraf-auth:rl:';
const ERROR_LOG_INTERVAL_MS = 10_000;

/**
 * What the store uses of an ioredis client, written out so that the published `.d.ts` files never
 * import `ioredis` (an optional peer): an application without it still type-checks. An ioredis
 * `Redis` instance fits it (checked where `connect` builds one).
 */
export interface RedisRateLimitClient {
  readonly status: string;
  readonly options: { connectTimeout?: number };
  defineCommand(name: string, definition: { lua: string; numberOfKeys?: number }): void;
  connect(): Promise<unknown>;
  quit(): Promise<unknown>;
  disconnect(): void;
  del(key: string): Promise<number>;
  on(event: 'error', listener: (error: Error) => void): unknown;
  once(event: 'ready', listener: () => void): unknown;
  off(event: 'ready', listener: () => void): unknown;
}

type ScriptedRedis = RedisRateLimitClient & {
  arrafRateLimitHit(key: string, windowMs: number): Promise<[number, number]>;
  arrafRateLimitPeek(key: string): Promise<[number, number] | null>;
  arrafRateLimitRelease(key: string): Promise<number>;
};

/** Connection settings of {@link RedisRateLimitStore.connect}. */
export interface RedisRateLimitStoreOptions {
  /** `redis://[user:password@]host:port[/db]` or `rediss://` for TLS. */
  url: string;
  /** Milliseconds a command may take before the request is refused with 503. @default 1000 */
  commandTimeout?: number;
}

/**
 * Rate-limit counters in Redis, shared by every instance of the application. Each hit is one Lua
 * script (INCR, then PEXPIRE on the window's first hit, returning the count and PTTL), so counts are
 * exact under any concurrency. Keys are `arraf-auth:rl:<sha256>`: Redis holds no phone number or
 * email address. Redis failures fail closed (503 `SERVICE_UNAVAILABLE`): commands are not queued
 * while disconnected and time out after `commandTimeout`, so no request waits on a dead server.
 *
 * @example { provide: RATE_LIMIT_STORE, useFactory: () => new RedisRateLimitStore(myIoredisClient) }
 */
export class RedisRateLimitStore implements RateLimitStore, OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('ArrafAuth');
  private readonly client: ScriptedRedis;
  private lastErrorLog = 0;

  /**
   * Wraps an ioredis client (anything shaped like {@link RedisRateLimitClient}). Pass `owned: false` when the application manages the client's
   * lifetime; by default the store closes it on shutdown.
   */
  constructor(
    client: RedisRateLimitClient,
    private readonly owned = true,
  ) {
    this.client = client as ScriptedRedis;
    this.client.defineCommand('arrafRateLimitHit', { numberOfKeys: 1, lua: HIT_SCRIPT });
    this.client.defineCommand('arrafRateLimitPeek', { numberOfKeys: 1, lua: PEEK_SCRIPT });
    this.client.defineCommand('arrafRateLimitRelease', { numberOfKeys: 1, lua: RELEASE_SCRIPT });
    this.client.on('error', (error: Error) => this.logError(error));
  }

  /**
   * A store with its own ioredis client, tuned to fail fast: no offline queue, one retry per
   * command, `commandTimeout` (default 1 s), and reconnection in the background with back-off.
   * Needs the `ioredis` package.
   */
  static async connect(options: RedisRateLimitStoreOptions): Promise<RedisRateLimitStore> {
    let RedisClient: typeof Redis;
    try {
      ({ Redis: RedisClient } = await import('ioredis'));
    } catch {
      throw new Error('ArrafAuthModule: rateLimit.storage.redis needs the ioredis package: npm install ioredis');
    }
    const commandTimeout = options.commandTimeout ?? DEFAULT_REDIS_COMMAND_TIMEOUT_MS;
    const settings: RedisOptions = {
      connectTimeout: Math.max(commandTimeout, 1000),
      commandTimeout,
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      retryStrategy: (attempt: number) => Math.min(100 * attempt, 1000),
    };
    return new RedisRateLimitStore(new RedisClient(options.url, settings));
  }

  async hit(key: string, windowSeconds: number): Promise<RateLimitHit> {
    const [count, ttl] = await this.run(() =>
      this.client.arrafRateLimitHit(storeKey(key), Math.max(1, Math.round(windowSeconds * 1000))),
    );
    return { count: Number(count), resetAt: Date.now() + Number(ttl) };
  }

  async peek(key: string): Promise<RateLimitHit | null> {
    const reply = await this.run(() => this.client.arrafRateLimitPeek(storeKey(key)));
    return reply ? { count: Number(reply[0]), resetAt: Date.now() + Number(reply[1]) } : null;
  }

  async reset(key: string): Promise<void> {
    await this.run(() => this.client.del(storeKey(key)));
  }

  async release(key: string): Promise<void> {
    await this.run(() => this.client.arrafRateLimitRelease(storeKey(key)));
  }

  /**
   * Waits at boot for the connection (at most `connectTimeout`). An unreachable server is logged,
   * not fatal: limited routes answer 503 until it is back, and the client keeps reconnecting.
   */
  async onModuleInit(): Promise<void> {
    if (this.client.status === 'ready') return;
    if (this.client.status === 'wait') void this.client.connect().catch(() => undefined);
    const timeout = this.client.options.connectTimeout ?? 10_000;
    const ready = await new Promise<boolean>((resolve) => {
      const done = (value: boolean) => {
        clearTimeout(timer);
        this.client.off('ready', onReady);
        resolve(value);
      };
      const onReady = () => done(true);
      const timer = setTimeout(() => done(false), timeout);
      this.client.once('ready', onReady);
    });
    if (!ready)
      this.logger.warn('Redis for rate limits is unreachable; rate-limited routes answer 503 until it is back');
  }

  async onModuleDestroy(): Promise<void> {
    if (!this.owned) return;
    if (this.client.status !== 'ready') return this.client.disconnect();
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
    }
  }

  private async run<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (error) {
      this.logError(error);
      throw new ArrafAuthException('SERVICE_UNAVAILABLE', { cause: error });
    }
  }

  /** At most one line per 10 s: a Redis outage must not flood the logs. */
  private logError(error: unknown): void {
    const now = Date.now();
    if (now - this.lastErrorLog < ERROR_LOG_INTERVAL_MS) return;
    this.lastErrorLog = now;
    this.logger.error(`Redis rate-limit store: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function storeKey(key: string): string {
  return KEY_PREFIX + sha256(key);
}
