import 'reflect-metadata';
import { beforeAll, describe, expect, it, jest } from '@jest/globals';
import { type INestApplication, Logger } from '@nestjs/common';
import { RATE_LIMIT_STORE } from '../../src/arraf-auth.constants.js';
import type { ArrafAuthOptions } from '../../src/options/arraf-auth-options.interface.js';
import type { RateLimitStore } from '../../src/rate-limit/rate-limit-store.interface.js';
import type { InMemorySmsProvider } from '../../src/testing/index.js';
import { createOtpTestApp } from '../apps/otp-test-app.js';
import { testDatabases } from '../helpers/databases.js';
import {
  emptyRedisDatabase,
  expectError,
  expectTooMany,
  otpClient,
  otpSuite,
  ownRedisDatabase,
  uniquePrefix,
} from './otp.helpers.js';

const REDIS_URL = process.env.TEST_REDIS_URL;
if (!REDIS_URL) process.stdout.write('otp-pumping.spec: Redis storage SKIPPED: TEST_REDIS_URL not set (memory runs)\n');

/** Numbers sharing one prefix no other scenario uses: `+96655` + 4 digits (prefixGuard.digits 6). */
function prefixNumbers(count: number): { local: string; e164: string }[] {
  const head = uniquePrefix();
  return Array.from({ length: count }, (_, i) => {
    const tail = String(i).padStart(3, '0');
    return { local: `0${head}${tail}`, e164: `+966${head}${tail}` };
  });
}

/** Per-address limits lifted, so parallel clients only meet the guard under test. */
const OPEN_ROUTES = { 'otp-send:ip': { limit: 100_000 }, 'otp-verify:ip': { limit: 100_000 } };
const BUDGET_KEY = 'otp-daily-budget';

type Storage = NonNullable<ArrafAuthOptions['rateLimit']>['storage'];

const STORAGES: { name: string; storage: Storage }[] = [
  { name: 'memory', storage: 'memory' },
  // A generous command timeout: 200 parallel sends on a loaded CI machine can keep a reply past the default
  // 1 s, and a timed-out hit is refused (503) after Redis counted it. These tests are about exact counts.
  // Database 13, emptied first: no other suite counts there, so prefixes and the daily budget start at zero.
  ...(REDIS_URL
    ? [{ name: 'redis', storage: ownRedisDatabase({ redis: REDIS_URL, commandTimeout: 15_000 }, 13) }]
    : []),
];

describe.each(STORAGES)('SMS-pumping guard with $name storage', ({ storage }) => {
  const db = testDatabases()[0];
  const suite = otpSuite(db);
  beforeAll(() => emptyRedisDatabase(storage));

  async function start(otp: ArrafAuthOptions['otp']): Promise<{ app: INestApplication; sms: InMemorySmsProvider }> {
    const started = await createOtpTestApp({
      database: suite.options(),
      auth: { otp, rateLimit: { storage, limits: OPEN_ROUTES } },
    });
    return suite.track(started);
  }

  it('lets exactly maxSendsPerHour of 200 parallel sends to one prefix through; the rest get 429 OTP_PREFIX_PAUSED', async () => {
    const cap = 7;
    const { app, sms } = await start({ prefixGuard: { digits: 6, maxSendsPerHour: cap, minSends: 1000 } });
    const numbers = prefixNumbers(200);
    const responses = await Promise.all(numbers.map((n) => otpClient(app).send(n.local)));
    const ok = responses.filter((r) => r.status === 200);
    expect(ok).toHaveLength(cap);
    for (const refused of responses.filter((r) => r.status !== 200)) expectTooMany(refused, 'OTP_PREFIX_PAUSED', 3600);
    const texted = new Set(numbers.map((n) => n.e164));
    expect(sms.messages.filter((m) => texted.has(m.to))).toHaveLength(cap);
  });

  it('pauses a prefix whose codes are not verified, logs a warning, and lifts it once enough of its codes are verified', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn');
    const { app, sms } = await start({
      prefixGuard: { digits: 6, minSends: 4, minVerifiedRatio: 0.5, pauseFor: 600 },
    });
    const numbers = prefixNumbers(8);
    const clients = numbers.map(() => otpClient(app));
    for (let i = 0; i < 4; i++) expect((await clients[i].send(numbers[i].local)).status).toBe(200);
    const paused = await clients[4].send(numbers[4].local);
    expectTooMany(paused, 'OTP_PREFIX_PAUSED', 600);
    expect(Number(paused.headers['retry-after'])).toBeGreaterThan(500);
    expect(warn.mock.calls.some(([line]) => /paused for 600 s: 0 of 4 codes verified/.test(String(line)))).toBe(true);
    expect(sms.lastCodeFor(numbers[4].e164)).toBeUndefined();

    // The owners of the numbers type the codes they did get: 1 of 4 is not yet the ratio, 2 of 4 is.
    expect((await clients[0].verify(numbers[0].local, sms.lastCodeFor(numbers[0].e164)!)).status).toBe(200);
    expectTooMany(await clients[5].send(numbers[5].local), 'OTP_PREFIX_PAUSED', 600);
    expect((await clients[1].verify(numbers[1].local, sms.lastCodeFor(numbers[1].e164)!)).status).toBe(200);
    // Lifted, and the sample that paused it starts again: it does not trip the breaker a second time.
    for (const i of [5, 6, 7]) expect((await otpClient(app).send(numbers[i].local)).status).toBe(200);
  });

  it('keeps a prefix paused when one code is verified among many unverified sends', async () => {
    const { app, sms } = await start({
      prefixGuard: { digits: 6, minSends: 10, minVerifiedRatio: 0.5, pauseFor: 600 },
    });
    const numbers = prefixNumbers(12);
    for (let i = 0; i < 10; i++) expect((await otpClient(app).send(numbers[i].local)).status).toBe(200);
    expectTooMany(await otpClient(app).send(numbers[10].local), 'OTP_PREFIX_PAUSED', 600);

    // The attacker owns one number of the pumped prefix and verifies its code.
    const owned = otpClient(app);
    expect((await owned.verify(numbers[0].local, sms.lastCodeFor(numbers[0].e164)!)).status).toBe(200);
    expectTooMany(await otpClient(app).send(numbers[11].local), 'OTP_PREFIX_PAUSED', 600);
    expectTooMany(await otpClient(app).send(numbers[0].local), 'OTP_PREFIX_PAUSED', 600);
    expect(sms.lastCodeFor(numbers[11].e164)).toBeUndefined();
  });

  it('keeps sending to a prefix whose codes are verified', async () => {
    const { app, sms } = await start({ prefixGuard: { digits: 6, minSends: 2, minVerifiedRatio: 0.5 } });
    const numbers = prefixNumbers(5);
    for (const n of numbers) {
      const client = otpClient(app);
      expect((await client.send(n.local)).status).toBe(200);
      expect((await client.verify(n.local, sms.lastCodeFor(n.e164)!)).status).toBe(200);
    }
  });

  it('refuses sends past otp.dailyBudget with 503 OTP_BUDGET_EXHAUSTED and logs one error line', async () => {
    // The budget counter is global (all numbers): start from what this suite's earlier tests counted.
    const probe = await start({ dailyBudget: 10_000_000 });
    const counted = (await probe.app.get<RateLimitStore>(RATE_LIMIT_STORE).peek(BUDGET_KEY))?.count ?? 0;
    const error = jest.spyOn(Logger.prototype, 'error');
    // Digits 6: the numbers' own prefix, so the breaker of a prefix other suites share (+96655) is not touched.
    const { app } = await start({ dailyBudget: counted + 3, prefixGuard: { digits: 6, maxSendsPerHour: 1_000_000 } });
    const numbers = prefixNumbers(5);
    const statuses: number[] = [];
    for (const n of numbers) {
      const res = await otpClient(app).send(n.local);
      statuses.push(res.status);
      if (res.status === 503) {
        expectError(res, 503, 'OTP_BUDGET_EXHAUSTED');
        expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      }
    }
    expect(statuses).toEqual([200, 200, 200, 503, 503]);
    expect(error.mock.calls.filter(([line]) => /otp\.dailyBudget .* is used up/.test(String(line)))).toHaveLength(1);
  });
});
