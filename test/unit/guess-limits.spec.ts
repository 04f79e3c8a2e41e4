import 'reflect-metadata';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { Test, type TestingModule } from '@nestjs/testing';
import { ARRAF_AUTH_OPTIONS, RATE_LIMIT_STORE } from '../../src/arraf-auth.constants.js';
import { resolveArrafAuthOptions } from '../../src/options/arraf-auth-options.resolver.js';
import { MemoryRateLimitStore } from '../../src/rate-limit/memory.rate-limit-store.js';
import { RateLimiter } from '../../src/rate-limit/rate-limiter.js';
import { admitGuess, type GuessLimits, progressiveDelay, resetGuesses } from '../../src/verification/guess-limits.js';
import { TEST_SECRET } from '../apps/test-app.js';

const LIMITS: GuessLimits = {
  perClient: { limit: 10, windowSeconds: 86_400 },
  perScope: [
    { limit: 50, windowSeconds: 86_400 },
    { limit: 200, windowSeconds: 30 * 86_400 },
  ],
  consecutive: { limit: 100, windowSeconds: 30 * 86_400, delayAfter: 10, initialDelay: 30, maxDelay: 3600 },
};

describe('guess limits', () => {
  let moduleRef: TestingModule;
  let limiter: RateLimiter;
  let scope = 0;
  const nextScope = () => `otp:+9665${String((scope += 1)).padStart(8, '0')}`;

  beforeEach(async () => {
    moduleRef = await Test.createTestingModule({
      providers: [
        RateLimiter,
        { provide: RATE_LIMIT_STORE, useClass: MemoryRateLimitStore },
        { provide: ARRAF_AUTH_OPTIONS, useValue: resolveArrafAuthOptions({ secret: TEST_SECRET }) },
      ],
    }).compile();
    limiter = moduleRef.get(RateLimiter);
  });

  afterEach(async () => {
    await moduleRef.close();
  });

  it('doubles the delay from initialDelay after delayAfter failures, up to maxDelay', () => {
    const delays = [10, 11, 12, 13, 16, 17, 18, 50, 10_000].map((n) => progressiveDelay(LIMITS.consecutive, n));
    expect(delays).toStrictEqual([30, 60, 120, 240, 1920, 3600, 3600, 3600, 3600]);
  });

  it('the default delays allow at most 40 guesses in a day when nobody succeeds (SECURITY.md)', () => {
    let elapsed = 0;
    let guesses = LIMITS.consecutive.delayAfter + 1;
    while (elapsed + progressiveDelay(LIMITS.consecutive, guesses - 1) <= 86_400) {
      elapsed += progressiveDelay(LIMITS.consecutive, guesses - 1);
      guesses += 1;
    }
    expect(guesses).toBe(40);
  });

  it('admits exactly the 24-hour bound (50) of 200 parallel guesses from 200 clients, and nothing after', async () => {
    const target = nextScope();
    const limits = { ...LIMITS, consecutive: { ...LIMITS.consecutive, delayAfter: 99 } };
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => admitGuess(limiter, limits, target, `10.0.${i >> 8}.${i & 255}`)),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(50);
    expect((await admitGuess(limiter, limits, target, 'fresh')).ok).toBe(false);
  });

  it('refuses a client past its own budget while another client still gets in, and a success resets the client', async () => {
    const target = nextScope();
    for (let i = 0; i < 10; i++) expect((await admitGuess(limiter, LIMITS, target, 'stranger')).ok).toBe(true);
    const refused = await admitGuess(limiter, LIMITS, target, 'stranger');
    expect(refused.ok === false && refused.retryAt - Date.now()).toBeGreaterThan(86_000_000);
    expect((await admitGuess(limiter, LIMITS, target, 'owner')).ok).toBe(true);
    await resetGuesses(limiter, target, 'stranger');
    expect((await admitGuess(limiter, LIMITS, target, 'stranger')).ok).toBe(true);
  });

  it('stops at maxConsecutiveFailures until a success resets the count', async () => {
    const target = nextScope();
    const limits = {
      ...LIMITS,
      perClient: { limit: 1000, windowSeconds: 86_400 },
      consecutive: { ...LIMITS.consecutive, limit: 5, delayAfter: 4 },
    };
    for (let i = 0; i < 4; i++) expect((await admitGuess(limiter, limits, target, 'a')).ok).toBe(true);
    expect((await admitGuess(limiter, limits, target, 'b')).ok).toBe(true);
    // The fifth guess opened a 30 s delay; past it the consecutive bound (5) refuses for its 30 days.
    const refused = await admitGuess(limiter, limits, target, 'c');
    expect(refused.ok === false && refused.retryAt - Date.now()).toBeGreaterThan(29 * 86_400_000);
    await resetGuesses(limiter, target, 'c');
    expect((await admitGuess(limiter, limits, target, 'c')).ok).toBe(true);
  });
});

describe('otp limit options', () => {
  const resolve = (otp: Record<string, unknown>) => resolveArrafAuthOptions({ secret: TEST_SECRET, otp } as never).otp;

  it('defaults to the documented figures', () => {
    expect(resolve({})).toMatchObject({
      maxAttempts: 5,
      resendCooldown: 60,
      maxSendsPerHour: 5,
      maxSendsPerClientPerHour: 3,
      maxFailuresPerClient: 10,
      maxFailuresPerDay: 50,
      maxFailuresPer30Days: 200,
      maxConsecutiveFailures: 100,
      delayAfterFailures: 10,
      initialDelay: 30,
      maxDelay: 3600,
    });
  });

  it('lowers per-client defaults with a smaller per-number cap instead of failing', () => {
    expect(resolve({ maxSendsPerHour: 2, maxFailuresPerDay: 4 })).toMatchObject({
      maxSendsPerClientPerHour: 2,
      maxFailuresPerClient: 4,
    });
  });

  it.each([
    [{ maxConsecutiveFailures: 101 }, 'otp.maxConsecutiveFailures'],
    [{ maxSendsPerHour: 3, maxSendsPerClientPerHour: 4 }, 'otp.maxSendsPerClientPerHour'],
    [{ maxFailuresPerDay: 10, maxFailuresPerClient: 11 }, 'otp.maxFailuresPerClient'],
    [{ maxFailuresPerDay: 60, maxFailuresPer30Days: 59 }, 'otp.maxFailuresPer30Days'],
    [{ maxConsecutiveFailures: 10, delayAfterFailures: 10 }, 'otp.delayAfterFailures'],
    [{ initialDelay: 60, maxDelay: 30 }, 'otp.maxDelay'],
    [{ maxFailuresPerDay: 1.5 }, 'otp.maxFailuresPerDay'],
    [{ maxDelays: 30 }, 'otp'],
  ])('refuses %j at boot naming %s', (otp, path) => {
    expect(() => resolve(otp)).toThrow(`invalid option ${path}`);
  });
});
