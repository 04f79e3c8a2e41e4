import 'reflect-metadata';
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeEach, describe, expect, it, jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { RATE_LIMIT_STORE } from '../../src/arraf-auth.constants.js';
import type { ArrafAuthOptions } from '../../src/options/arraf-auth-options.interface.js';
import type { RateLimitStore } from '../../src/rate-limit/rate-limit-store.interface.js';
import { createOtpTestApp } from '../apps/otp-test-app.js';
import { testDatabases } from '../helpers/databases.js';
import { expectError, expectTooMany, otpClient, otpSuite, saudiMobile, wrongCode } from './otp.helpers.js';

const REDIS_URL = process.env.TEST_REDIS_URL;
if (!REDIS_URL) process.stdout.write('otp-reviewer.spec: Redis storage SKIPPED: TEST_REDIS_URL not set\n');

type Storage = NonNullable<ArrafAuthOptions['rateLimit']>['storage'];
const STORAGES: { name: string; storage: Storage }[] = [
  { name: 'memory', storage: 'memory' },
  // A generous command timeout: on a loaded CI machine a reply can come after the default 1 s, and a
  // timed-out hit is refused (503, fail closed) after Redis counted it. These tests are about exact counts.
  ...(REDIS_URL ? [{ name: 'redis', storage: { redis: REDIS_URL, commandTimeout: 15_000 } }] : []),
];

/** Per-address limits lifted, so parallel guesses only meet the reviewer bound. */
const OPEN_ROUTES = { 'otp-verify:ip': { limit: 100_000 } };
const FIXED = '246801';
const CAP = 5;
const DAY = 24 * 3600;

describe.each(STORAGES)('reviewer numbers (otp.testNumbers) with $name storage', ({ storage }) => {
  const db = testDatabases()[0];
  const suite = otpSuite(db);

  /** An app whose reviewer number is a fresh one (the day's counters of a shared store start at zero). */
  async function start() {
    const reviewer = saudiMobile();
    const { app } = await createOtpTestApp({
      database: suite.options(),
      auth: {
        otp: { testNumbers: { [reviewer.e164]: FIXED }, maxFailuresPerDay: CAP },
        rateLimit: { storage, limits: OPEN_ROUTES },
      },
    });
    return suite.track({ app, reviewer });
  }

  beforeEach(() => {
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });

  it(`compares at most maxFailuresPerDay of 50 parallel wrong codes; the rest, then the right code, get 429`, async () => {
    const { app, reviewer } = await start();
    // A store with latency (a busy shared Redis): a reviewer counter's hit lands a second late, so
    // the guesses that arrive meanwhile all interleave with the first ones.
    const store = app.get<RateLimitStore>(RATE_LIMIT_STORE);
    const hit = store.hit.bind(store);
    jest.spyOn(store, 'hit').mockImplementation(async (key, windowSeconds) => {
      if (key.startsWith('otp-reviewer-')) await sleep(1000);
      return hit(key, windowSeconds);
    });
    const guesses = Array.from({ length: 50 }, (_, i) =>
      otpClient(app).verify(reviewer.local, wrongCode(FIXED, i + 1)),
    );
    const responses = await Promise.all(guesses);
    const compared = responses.filter((r) => r.status === 400);
    expect(compared).toHaveLength(CAP);
    for (const res of compared) expectError(res, 400, 'OTP_INVALID');
    for (const res of responses.filter((r) => r.status !== 400)) expectTooMany(res, 'OTP_TOO_MANY_ATTEMPTS', DAY);
    const wrongLines = (Logger.prototype.warn as jest.Mock).mock.calls.filter(([l]) =>
      /wrong fixed code/.test(String(l)),
    );
    expect(wrongLines).toHaveLength(CAP);

    expectTooMany(await otpClient(app).verify(reviewer.local, FIXED), 'OTP_TOO_MANY_ATTEMPTS', DAY);
  });

  it('signs the reviewer in again and again under the bound; its sign-ins do not forgive wrong codes', async () => {
    const { app, reviewer } = await start();
    const client = otpClient(app);
    for (let i = 0; i < CAP - 1; i++)
      expectError(await client.verify(reviewer.local, wrongCode(FIXED, i + 1)), 400, 'OTP_INVALID');
    for (let i = 0; i < 3 * CAP; i++) {
      const res = await otpClient(app).verify(reviewer.local, FIXED);
      expect({ status: res.status, phone: res.body.user?.phone }).toEqual({ status: 200, phone: reviewer.e164 });
    }
    // The last wrong code of the day is still compared, then nothing is, the right code included.
    expectError(await client.verify(reviewer.local, wrongCode(FIXED, 99)), 400, 'OTP_INVALID');
    expectTooMany(await client.verify(reviewer.local, FIXED), 'OTP_TOO_MANY_ATTEMPTS', DAY);
  });
});
