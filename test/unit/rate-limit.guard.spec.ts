import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { Controller, type ExecutionContext, Post } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { ARRAF_AUTH_OPTIONS, RATE_LIMIT_STORE } from '../../src/arraf-auth.constants.js';
import { ArrafAuthException } from '../../src/errors/arraf-auth.exception.js';
import { resolveArrafAuthOptions } from '../../src/options/arraf-auth-options.resolver.js';
import { MemoryRateLimitStore } from '../../src/rate-limit/memory.rate-limit-store.js';
import { RateLimit } from '../../src/rate-limit/rate-limit.decorator.js';
import { RateLimitGuard } from '../../src/rate-limit/rate-limit.guard.js';
import type { RateLimitHit, RateLimitStore } from '../../src/rate-limit/rate-limit-store.interface.js';
import { PARSED_BODY } from '../../src/schemas/request-body.decorator.js';
import { TEST_SECRET } from '../apps/test-app.js';

@Controller()
class Routes {
  @Post('a')
  @RateLimit('sign-up:ip', 'sign-up:identifier')
  signUp() {}

  @Post('b')
  @RateLimit({ rule: 'sign-in:ip', when: { method: 'email' } }, { rule: 'otp-send:ip', when: { method: 'phone' } })
  signIn() {}

  @Post('c')
  @RateLimit('verify-email-send:account')
  account() {}

  @Post('d')
  undeclared() {}
}

/** A store that counts keys, or fails like an unreachable Redis. */
class CountingStore implements RateLimitStore {
  readonly keys: string[] = [];
  constructor(private readonly fail = false) {}
  private readonly memory = new MemoryRateLimitStore();
  async hit(key: string, window: number): Promise<RateLimitHit> {
    if (this.fail) throw new Error('connect ECONNREFUSED 127.0.0.1:6379');
    this.keys.push(key);
    return this.memory.hit(key, window);
  }
  peek(key: string) {
    return this.memory.peek(key);
  }
  reset(key: string) {
    return this.memory.reset(key);
  }
}

async function guardWith(store: RateLimitStore, limits = {}) {
  const moduleRef = await Test.createTestingModule({
    providers: [
      RateLimitGuard,
      { provide: RATE_LIMIT_STORE, useValue: store },
      {
        provide: ARRAF_AUTH_OPTIONS,
        useValue: resolveArrafAuthOptions({ secret: TEST_SECRET, rateLimit: { limits } }),
      },
      Reflector,
    ],
  }).compile();
  return moduleRef.get(RateLimitGuard);
}

function contextFor(handler: keyof Routes, request: Record<string | symbol, unknown>): ExecutionContext {
  return {
    getHandler: () => Routes.prototype[handler],
    getClass: () => Routes,
    getType: () => 'http',
    switchToHttp: () => ({ getRequest: () => ({ headers: {}, ...request }), getResponse: () => ({}) }),
  } as unknown as ExecutionContext;
}

const body = (value: object) => ({ [PARSED_BODY]: { schema: 'x', value } });

describe('RateLimitGuard', () => {
  it('counts each declared rule in order: the client address, then the normalised email and E.164 phone', async () => {
    const store = new CountingStore();
    const guard = await guardWith(store);
    const request = { ip: '::ffff:10.1.2.3', ...body({ email: ' Sara@Example.COM ', phone: '٠٥٥١٢٣٤٥٦٧' }) };
    await expect(guard.canActivate(contextFor('signUp', request))).resolves.toBe(true);
    expect(store.keys).toEqual([
      'sign-up:ip:10.1.2.3',
      'sign-up:identifier:sara@example.com',
      'sign-up:identifier:+966551234567',
    ]);
  });

  it('applies a rule only to bodies that match its `when`', async () => {
    const store = new CountingStore();
    const guard = await guardWith(store);
    await guard.canActivate(
      contextFor('signIn', { ip: '10.0.0.1', ...body({ method: 'phone', phone: '0551234567' }) }),
    );
    await guard.canActivate(contextFor('signIn', { ip: '10.0.0.1', ...body({ method: 'email', email: 'a@b.sa' }) }));
    expect(store.keys).toEqual(['otp-send:ip:10.0.0.1', 'sign-in:ip:10.0.0.1']);
  });

  it('counts per account the signed-in user, and refuses an :account rule without one', async () => {
    const store = new CountingStore();
    const guard = await guardWith(store);
    await guard.canActivate(contextFor('account', { user: { id: 'user-1' } }));
    expect(store.keys).toEqual(['verify-email-send:account:user-1']);
    await expect(guard.canActivate(contextFor('account', {}))).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('answers 429 RATE_LIMITED with Retry-After past the configured limit, per subject', async () => {
    const guard = await guardWith(new CountingStore(), { 'sign-up:ip': { limit: 2, window: 60 } });
    const from = (ip: string) => guard.canActivate(contextFor('signUp', { ip, ...body({}) }));
    await from('10.0.0.9');
    await from('10.0.0.9');
    const refused = await from('10.0.0.9').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ArrafAuthException);
    expect({
      status: (refused as ArrafAuthException).getStatus(),
      code: (refused as ArrafAuthException).code,
      retryAfter: Number((refused as ArrafAuthException).headers['Retry-After']),
    }).toEqual({ status: 429, code: 'RATE_LIMITED', retryAfter: expect.any(Number) });
    expect(Number((refused as ArrafAuthException).headers['Retry-After'])).toBeLessThanOrEqual(60);
    await expect(from('10.0.0.10')).resolves.toBe(true);
  });

  it('fails closed: a store that cannot be reached is 503 SERVICE_UNAVAILABLE, never an unlimited route', async () => {
    const guard = await guardWith(new CountingStore(true));
    await expect(guard.canActivate(contextFor('signUp', { ip: '10.0.0.1', ...body({}) }))).rejects.toMatchObject({
      code: 'SERVICE_UNAVAILABLE',
    });
  });

  it('lets routes without @RateLimit through without touching the store', async () => {
    const store = new CountingStore(true);
    const guard = await guardWith(store);
    await expect(guard.canActivate(contextFor('undeclared', { ip: '10.0.0.1' }))).resolves.toBe(true);
  });
});
