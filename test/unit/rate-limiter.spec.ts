import 'reflect-metadata';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { Test, type TestingModule } from '@nestjs/testing';
import { ARRAF_AUTH_OPTIONS, RATE_LIMIT_STORE } from '../../src/arraf-auth.constants.js';
import { ArrafAuthException } from '../../src/errors/arraf-auth.exception.js';
import { resolveArrafAuthOptions } from '../../src/options/arraf-auth-options.resolver.js';
import { MEMORY_RATE_LIMIT_MAX_KEYS, MemoryRateLimitStore } from '../../src/rate-limit/memory.rate-limit-store.js';
import { clientIpBucket } from '../../src/rate-limit/client-ip.js';
import { RateLimiter } from '../../src/rate-limit/rate-limiter.js';
import type { RateLimitStore } from '../../src/rate-limit/rate-limit-store.interface.js';
import { TEST_SECRET } from '../apps/test-app.js';

async function limiterWith(store: RateLimitStore | typeof MemoryRateLimitStore, maxKeys?: number) {
  return Test.createTestingModule({
    providers: [
      RateLimiter,
      typeof store === 'function'
        ? { provide: RATE_LIMIT_STORE, useClass: store }
        : { provide: RATE_LIMIT_STORE, useValue: store },
      ...(maxKeys === undefined ? [] : [{ provide: MEMORY_RATE_LIMIT_MAX_KEYS, useValue: maxKeys }]),
      {
        provide: ARRAF_AUTH_OPTIONS,
        useValue: resolveArrafAuthOptions({
          secret: TEST_SECRET,
          rateLimit: { limits: { 'sign-in:ip': { limit: 3, window: 60 } } },
        }),
      },
    ],
  }).compile();
}

function codeOf(error: unknown): string {
  return error instanceof ArrafAuthException ? error.code : String(error);
}

describe('RateLimiter', () => {
  let moduleRef: TestingModule;

  afterEach(async () => {
    await moduleRef?.close();
  });

  describe('over the memory store', () => {
    let limiter: RateLimiter;

    beforeEach(async () => {
      moduleRef = await limiterWith(MemoryRateLimitStore);
      limiter = moduleRef.get(RateLimiter);
    });

    it('lets `limit` requests of a rule through per window and refuses the next with 429 RATE_LIMITED and Retry-After', async () => {
      for (let i = 1; i <= 3; i++) expect((await limiter.consume('sign-in:ip', 'a')).count).toBe(i);
      const refused = await limiter.consume('sign-in:ip', 'a').catch((error: unknown) => error);
      expect(codeOf(refused)).toBe('RATE_LIMITED');
      const retryAfter = Number((refused as ArrafAuthException).headers['Retry-After']);
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
      // Another subject has its own window.
      expect((await limiter.consume('sign-in:ip', 'b')).count).toBe(1);
    });

    it('counts exactly under concurrency: 50 parallel requests, 3 through', async () => {
      const results = await Promise.allSettled(Array.from({ length: 50 }, () => limiter.consume('sign-in:ip', 'c')));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
    });

    it('calls onLimitReached once, for the first refused request of a window', async () => {
      const reached: number[] = [];
      for (let i = 0; i < 6; i++)
        await limiter.consume('sign-in:ip', 'd', (hit) => reached.push(hit.count)).catch(() => undefined);
      expect(reached).toStrictEqual([4]);
    });

    it('buckets IPv6 clients per /64 and unwraps IPv4-mapped addresses', async () => {
      // What RateLimitGuard does for an `:ip` rule: the subject is the client's bucket.
      const consumeClient = (rule: 'sign-in:ip', ip: string) => limiter.consume(rule, clientIpBucket(ip));
      await consumeClient('sign-in:ip', '2001:db8:1:2::1');
      await consumeClient('sign-in:ip', '2001:db8:1:2:ffff::9');
      await consumeClient('sign-in:ip', '2001:db8:1:2:aaaa::7');
      await expect(consumeClient('sign-in:ip', '2001:db8:1:2::42')).rejects.toMatchObject({
        code: 'RATE_LIMITED',
      });
      expect((await consumeClient('sign-in:ip', '2001:db8:1:3::1')).count).toBe(1);
      await consumeClient('sign-in:ip', '::ffff:192.0.2.7');
      expect((await consumeClient('sign-in:ip', '192.0.2.7')).count).toBe(2);
    });

    it('resets a rule window and raw keys', async () => {
      for (let i = 0; i < 3; i++) await limiter.consume('sign-in:ip', 'e');
      await limiter.reset('sign-in:ip', 'e');
      expect((await limiter.consume('sign-in:ip', 'e')).count).toBe(1);
      await limiter.hitKey('raw', 60);
      expect((await limiter.peekKey('raw'))?.count).toBe(1);
      await limiter.resetKey('raw');
      expect(await limiter.peekKey('raw')).toBeNull();
    });
  });

  it('fails closed with 503 SERVICE_UNAVAILABLE when the store throws', async () => {
    const broken: RateLimitStore = {
      hit: () => Promise.reject(new Error('ECONNREFUSED')),
      peek: () => Promise.reject(new Error('ECONNREFUSED')),
      reset: () => Promise.reject(new Error('ECONNREFUSED')),
    };
    moduleRef = await limiterWith(broken);
    const limiter = moduleRef.get(RateLimiter);
    for (const call of [
      () => limiter.consume('sign-in:ip', 'x'),
      () => limiter.hitKey('k', 60),
      () => limiter.peekKey('k'),
      () => limiter.resetKey('k'),
    ])
      await expect(call()).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
  });
});

describe('MemoryRateLimitStore key ceiling', () => {
  it('holds at most maxKeys counters and drops the least recently counted first', async () => {
    const moduleRef = await limiterWith(MemoryRateLimitStore, 100);
    const store = moduleRef.get<MemoryRateLimitStore>(RATE_LIMIT_STORE);
    expect(store.maxKeys).toBe(100);
    await store.hit('kept', 60);
    for (let i = 0; i < 99; i++) await store.hit(`flood-${i}`, 60);
    // Counting `kept` again makes it the most recent; the next new keys evict the oldest floods.
    await store.hit('kept', 60);
    for (let i = 99; i < 150; i++) await store.hit(`flood-${i}`, 60);
    expect(store.size).toBe(100);
    expect((await store.peek('kept'))?.count).toBe(2);
    expect(await store.peek('flood-0')).toBeNull();
    expect((await store.peek('flood-149'))?.count).toBe(1);
    await moduleRef.close();
  });

  it('stays bounded under 200,000 distinct keys (the default ceiling is 100,000)', async () => {
    const store = new MemoryRateLimitStore();
    for (let i = 0; i < 200_000; i++) await store.hit(`k${i}`, 3600);
    expect(store.size).toBe(100_000);
    store.onModuleDestroy();
  });

  it('refuses a ceiling that is not a positive integer', () => {
    expect(() => new MemoryRateLimitStore(0)).toThrow(/maxKeys/);
  });
});
