import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Test, type TestingModule } from '@nestjs/testing';
import { ARRAF_AUTH_OPTIONS, RATE_LIMIT_STORE } from '../../src/arraf-auth.constants.js';
import { resolveArrafAuthOptions } from '../../src/options/arraf-auth-options.resolver.js';
import { MemoryRateLimitStore } from '../../src/rate-limit/memory.rate-limit-store.js';
import { RateLimiter } from '../../src/rate-limit/rate-limiter.js';
import type { RateLimitStore } from '../../src/rate-limit/rate-limit-store.interface.js';
import { RedisRateLimitStore } from '../../src/rate-limit/redis.rate-limit-store.js';
import { TEST_SECRET } from '../apps/test-app.js';

const REDIS_URL = process.env.TEST_REDIS_URL;
const STORES: { name: string; create: () => Promise<RateLimitStore> }[] = [
  { name: 'memory', create: async () => new MemoryRateLimitStore() },
  ...(REDIS_URL ? [{ name: 'redis', create: () => RedisRateLimitStore.connect({ url: REDIS_URL }) }] : []),
];

async function limiterOver(store: RateLimitStore): Promise<TestingModule> {
  return Test.createTestingModule({
    providers: [
      RateLimiter,
      { provide: RATE_LIMIT_STORE, useValue: store },
      { provide: ARRAF_AUTH_OPTIONS, useValue: resolveArrafAuthOptions({ secret: TEST_SECRET }) },
    ],
  }).compile();
}

describe.each(STORES)('RateLimiter.releaseKey over the $name store', ({ create }) => {
  let moduleRef: TestingModule;
  let store: RateLimitStore;
  let limiter: RateLimiter;

  beforeAll(async () => {
    store = await create();
    moduleRef = await limiterOver(store);
    await moduleRef.init();
    limiter = moduleRef.get(RateLimiter);
  });

  afterAll(async () => {
    await moduleRef?.close();
    await (store as Partial<RedisRateLimitStore>).onModuleDestroy?.();
  });

  it('takes back one hit of the open window and keeps its end', async () => {
    const key = `release:${randomUUID()}`;
    await limiter.hitKey(key, 60);
    const second = await limiter.hitKey(key, 60);
    await limiter.releaseKey(key);
    const after = await limiter.peekKey(key);
    expect(after?.count).toBe(1);
    expect(Math.abs(after!.resetAt - second.resetAt)).toBeLessThan(1000);
    expect((await limiter.hitKey(key, 60)).count).toBe(2);
  });

  it('never goes below zero and never opens a window', async () => {
    const key = `release:${randomUUID()}`;
    await limiter.releaseKey(key);
    expect(await limiter.peekKey(key)).toBeNull();
    await limiter.hitKey(key, 60);
    await limiter.releaseKey(key);
    await limiter.releaseKey(key);
    expect((await limiter.peekKey(key))?.count ?? 0).toBe(0);
    expect((await limiter.hitKey(key, 60)).count).toBe(1);
  });
});

describe('RateLimiter.releaseKey over a store without release', () => {
  it('keeps the hit (the safe side) and does not fail', async () => {
    const memory = new MemoryRateLimitStore();
    const store: RateLimitStore = {
      hit: (key, seconds) => memory.hit(key, seconds),
      peek: (key) => memory.peek(key),
      reset: (key) => memory.reset(key),
    };
    const moduleRef = await limiterOver(store);
    const limiter = moduleRef.get(RateLimiter);
    await limiter.hitKey('k', 60);
    await limiter.releaseKey('k');
    expect((await limiter.peekKey('k'))?.count).toBe(1);
    await moduleRef.close();
    memory.onModuleDestroy();
  });
});
