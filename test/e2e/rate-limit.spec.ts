import 'reflect-metadata';
import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import type { Response } from 'supertest';
import { DataSource } from 'typeorm';
import { Account, type ArrafAuthOptions, Session, User, Verification } from '../../src/index.js';
import { resolveArrafAuthOptions } from '../../src/options/arraf-auth-options.resolver.js';
import { PasswordService } from '../../src/password/password.service.js';
import { clientIpBucket } from '../../src/rate-limit/client-ip.js';
import { RATE_LIMIT_RULES } from '../../src/rate-limit/rate-limit.constants.js';
import { GOOD_PASSWORD, OTHER_PASSWORD, sessionCookie } from '../apps/password-test-app.js';
import {
  APP_ORIGIN,
  countStatuses,
  createSecurityTestApp,
  inBatches,
  randomIpv4,
  randomIpv6Prefix,
  type SecurityTestApp,
  uniqueEmail,
  uniquePhone,
} from '../apps/security-test-app.js';
import { TEST_SECRET } from '../apps/test-app.js';
import { type TestDatabase, testDatabases } from '../helpers/databases.js';
import { expectError, expectTooMany } from './otp.helpers.js';

/**
 * Rate limits through HTTP, on both storages. Counters live in the rate-limit store, not in the
 * database, so one database (SQLite) is enough here; the database-side counters (OTP attempts) are
 * covered on every database by otp.spec.ts.
 */
const REDIS_URL = process.env.TEST_REDIS_URL;
if (!REDIS_URL) {
  process.stdout.write('rate-limit.spec: Redis storage SKIPPED: TEST_REDIS_URL not set (memory storage runs)\n');
}

type Storage = NonNullable<ArrafAuthOptions['rateLimit']>['storage'];

// The SMS-pumping guard (tested in otp-pumping.spec) counts per number prefix and globally: on a Redis
// shared by every suite those counters add up across suites and runs, so they are lifted here.
const SHARED_STORE_PUMPING_GUARD = {
  prefixGuard: { maxSendsPerHour: 1_000_000, minSends: 1_000_000 },
  dailyBudget: 10_000_000,
};

const sqlite = testDatabases()[0] as TestDatabase;
const NEW_PASSWORD = 'a brand new passphrase for 2026';

async function tableCounts(t: SecurityTestApp): Promise<Record<string, number>> {
  const ds = t.app.get(DataSource);
  return {
    users: await ds.getRepository(User).count(),
    accounts: await ds.getRepository(Account).count(),
    sessions: await ds.getRepository(Session).count(),
    verifications: await ds.getRepository(Verification).count(),
  };
}

function rateLimitSuite(storage: Storage): void {
  let database: Awaited<ReturnType<TestDatabase['create']>>;

  beforeAll(async () => {
    database = await sqlite.create();
  });

  afterAll(async () => {
    await database?.drop();
  });

  afterEach(() => {
    jest.restoreAllMocks();
  });

  describe('with small limits', () => {
    let t: SecurityTestApp;

    beforeAll(async () => {
      t = await createSecurityTestApp({
        database: database.options,
        auth: {
          otp: { resendCooldown: 0, maxSendsPerHour: 10, ...SHARED_STORE_PUMPING_GUARD },
          rateLimit: {
            storage,
            limits: {
              'sign-in:account': { limit: 10 },
              'sign-in:ip': { limit: 5 },
              'otp-send:ip': { limit: 1000 },
              'sign-up:ip': { limit: 2 },
              'forgot-password:ip': { limit: 2 },
              'reset-password:ip': { limit: 2 },
              'verify-email:ip': { limit: 2 },
              'verify-email-send:account': { limit: 2 },
              'change-password:account': { limit: 3 },
            },
          },
        },
      });
    });

    afterAll(async () => {
      await t?.app.close();
    });

    async function signUp(email = uniqueEmail()): Promise<{ email: string; cookie: string; id: string }> {
      const res = await t
        .http()
        .post('/auth/sign-up')
        .set('X-Forwarded-For', randomIpv4())
        .send({ email, password: GOOD_PASSWORD });
      expect(res.status).toBe(201);
      return { email, cookie: sessionCookie(res), id: res.body.user.id };
    }

    const signIn = (email: string, password: string, ip = randomIpv4()) =>
      t.http().post('/auth/sign-in').set('X-Forwarded-For', ip).send({ method: 'email', email, password });

    it('lets exactly 10 of 200 concurrent wrong sign-ins for one account reach the password check; the other 190 get 429 with Retry-After', async () => {
      const { email } = await signUp();
      const verify = jest.spyOn(PasswordService.prototype, 'verify');
      const responses = await Promise.all(Array.from({ length: 200 }, () => signIn(email, OTHER_PASSWORD)));
      expect(countStatuses(responses)).toEqual({ 401: 10, 429: 190 });
      expect(verify).toHaveBeenCalledTimes(10);
      for (const res of responses.filter((r) => r.status === 429)) expectTooMany(res, 'RATE_LIMITED', 3600);
    });

    it('lets exactly 10 of 200 concurrent code requests for one number reach the SMS provider (maxSendsPerHour 10)', async () => {
      const phone = uniquePhone();
      const responses = await Promise.all(
        Array.from({ length: 200 }, () =>
          t
            .http()
            .post('/auth/otp/send')
            .set('X-Forwarded-For', randomIpv4())
            .send({ method: 'phone', phone: phone.local }),
        ),
      );
      expect(countStatuses(responses)).toEqual({ 200: 10, 429: 190 });
      expect(t.sms.messages.filter((m) => m.to === phone.e164)).toHaveLength(10);
    });

    it('refuses a locked account even with the right password, and answers an unknown address exactly the same way', async () => {
      const { email } = await signUp();
      const unknown = uniqueEmail('nobody');
      for (const address of [email, unknown]) {
        const statuses = await inBatches(
          Array.from({ length: 10 }, () => () => signIn(address, OTHER_PASSWORD)),
          5,
        );
        expect(countStatuses(statuses)).toEqual({ 401: 10 });
      }
      const known = await signIn(email, GOOD_PASSWORD);
      const other = await signIn(unknown, GOOD_PASSWORD);
      expectTooMany(known, 'RATE_LIMITED', 3600);
      expect({ status: other.status, body: other.body }).toStrictEqual({ status: known.status, body: known.body });
    });

    it('clears the failure window after a successful sign-in', async () => {
      const { email } = await signUp();
      for (let i = 0; i < 9; i++) expect((await signIn(email, OTHER_PASSWORD)).status).toBe(401);
      expect((await signIn(email, GOOD_PASSWORD)).status).toBe(200);
      for (let i = 0; i < 9; i++) expect((await signIn(email, OTHER_PASSWORD)).status).toBe(401);
      expect((await signIn(email, GOOD_PASSWORD)).status).toBe(200);
    });

    it('limits email sign-ins per client address, counting 100 addresses of one IPv6 /64 as one client', async () => {
      const prefix = randomIpv6Prefix();
      const responses: Response[] = [];
      for (let i = 1; i <= 100; i++) {
        responses.push(await signIn(uniqueEmail('v6'), OTHER_PASSWORD, `${prefix}:${i.toString(16)}::${i}`));
      }
      expect(countStatuses(responses)).toEqual({ 401: 5, 429: 95 });
      expectTooMany(responses[5], 'RATE_LIMITED', 600);
      // Another /64 is another client.
      expect((await signIn(uniqueEmail('v6'), OTHER_PASSWORD, `${randomIpv6Prefix()}::1`)).status).toBe(401);
    });

    it.each([
      // Sign-ups that could create an account: a refused one (a short password) spends no limit.
      ['POST /auth/sign-up', '/auth/sign-up', () => ({ email: uniqueEmail(), password: GOOD_PASSWORD }), 201],
      ['POST /auth/forgot-password', '/auth/forgot-password', () => ({ method: 'email', email: uniqueEmail() }), 200],
      [
        'POST /auth/reset-password',
        '/auth/reset-password',
        () => ({ method: 'email', email: uniqueEmail(), otp: '123456', newPassword: NEW_PASSWORD }),
        400,
      ],
      ['POST /auth/verify-email', '/auth/verify-email', () => ({ email: uniqueEmail(), otp: '123456' }), 400],
    ])(
      'limits %s per client address with 429 RATE_LIMITED and Retry-After; another address goes on',
      async (_name, path, body, status) => {
        const ip = randomIpv4();
        for (let i = 0; i < 2; i++)
          expect((await t.http().post(path).set('X-Forwarded-For', ip).send(body())).status).toBe(status);
        const before = await tableCounts(t);
        expectTooMany(await t.http().post(path).set('X-Forwarded-For', ip).send(body()), 'RATE_LIMITED', 600);
        expect(await tableCounts(t)).toEqual(before);
        expect((await t.http().post(path).set('X-Forwarded-For', randomIpv4()).send(body())).status).toBe(status);
      },
    );

    it('limits sign-ups per email from any address (5 an hour), taken or not, and stores nothing past the limit', async () => {
      const { email: taken } = await signUp();
      const free = uniqueEmail('free');
      const attempt = (email: string) =>
        t.http().post('/auth/sign-up').set('X-Forwarded-For', randomIpv4()).send({ email, password: GOOD_PASSWORD });
      // The first sign-up of `taken` used one of its five.
      for (let i = 0; i < 4; i++) expectError(await attempt(taken), 409, 'USER_ALREADY_EXISTS');
      expect((await attempt(free)).status).toBe(201);
      for (let i = 0; i < 4; i++) expectError(await attempt(free), 409, 'USER_ALREADY_EXISTS');
      const before = await tableCounts(t);
      const [a, b] = [await attempt(taken), await attempt(free)];
      expectTooMany(a, 'RATE_LIMITED', 3600);
      expect({ status: b.status, body: b.body }).toStrictEqual({ status: a.status, body: a.body });
      expect(await tableCounts(t)).toEqual(before);
    });

    it('limits password-reset requests per email (5 an hour) alike for known and unknown addresses, and sends nothing past it', async () => {
      const { email } = await signUp();
      const unknown = uniqueEmail('nobody');
      const forgot = (address: string) =>
        t
          .http()
          .post('/auth/forgot-password')
          .set('X-Forwarded-For', randomIpv4())
          .send({ method: 'email', email: address });
      for (let i = 0; i < 5; i++) {
        expect((await forgot(email)).status).toBe(200);
        expect((await forgot(unknown)).status).toBe(200);
      }
      const sent = t.mail.length;
      const [known, other] = [await forgot(email), await forgot(unknown)];
      expectTooMany(known, 'RATE_LIMITED', 3600);
      expect({ status: other.status, body: other.body }).toStrictEqual({ status: known.status, body: known.body });
      expect(t.mail.length).toBe(sent);
    });

    it('limits wrong current passwords on change-password per account, then refuses even the right one', async () => {
      const { cookie } = await signUp();
      const change = (currentPassword: string) =>
        t
          .http()
          .post('/auth/change-password')
          .set('Cookie', cookie)
          .set('Origin', APP_ORIGIN)
          .send({ currentPassword, newPassword: NEW_PASSWORD });
      for (let i = 0; i < 3; i++) expectError(await change(OTHER_PASSWORD), 401, 'INVALID_CREDENTIALS');
      expectTooMany(await change(GOOD_PASSWORD), 'RATE_LIMITED', 3600);
    });

    it('limits verification emails per account', async () => {
      const { cookie } = await signUp();
      const send = () =>
        t.http().post('/auth/verify-email/send').set('Cookie', cookie).set('Origin', APP_ORIGIN).send({});
      for (let i = 0; i < 2; i++) expect((await send()).status).toBe(200);
      const sent = t.mail.length;
      expectTooMany(await send(), 'RATE_LIMITED', 3600);
      expect(t.mail.length).toBe(sent);
    });
  });

  describe('with the default limits', () => {
    let t: SecurityTestApp;

    beforeAll(async () => {
      t = await createSecurityTestApp({
        database: database.options,
        auth: { otp: SHARED_STORE_PUMPING_GUARD, rateLimit: { storage } },
      });
    });

    afterAll(async () => {
      await t?.app.close();
    });

    it('refuses the 101st failed sign-in of an account within the hour from 101 addresses (R1), logs the lockout once, and still lets the owner reset the password and sign in (R4)', async () => {
      const email = uniqueEmail('locked');
      expect(
        (
          await t
            .http()
            .post('/auth/sign-up')
            .set('X-Forwarded-For', randomIpv4())
            .send({ email, password: GOOD_PASSWORD })
        ).status,
      ).toBe(201);
      const signIn = (password: string) =>
        t.http().post('/auth/sign-in').set('X-Forwarded-For', randomIpv4()).send({ method: 'email', email, password });
      const failures = await inBatches(
        Array.from({ length: 100 }, () => () => signIn(OTHER_PASSWORD)),
        10,
      );
      expect(countStatuses(failures)).toEqual({ 401: 100 });

      const warn = jest.spyOn(Logger.prototype, 'warn');
      expectTooMany(await signIn(GOOD_PASSWORD), 'RATE_LIMITED', 3600);
      expectTooMany(await signIn(GOOD_PASSWORD), 'RATE_LIMITED', 3600);
      const lockouts = warn.mock.calls.filter(([message]) => String(message).startsWith('Sign-in locked'));
      expect(lockouts).toHaveLength(1);
      expect(String(lockouts[0][0])).toContain('after 100 failed attempts');
      expect(String(lockouts[0][0])).not.toContain(email);

      // Recovery is not locked: forgot → emailed code → reset → sign in with the new password.
      expect(
        (
          await t
            .http()
            .post('/auth/forgot-password')
            .set('X-Forwarded-For', randomIpv4())
            .send({ method: 'email', email })
        ).status,
      ).toBe(200);
      const delivery = t.mail.filter((m) => m.kind === 'reset-password' && m.delivery.user.email === email).at(-1)!;
      const reset = await t
        .http()
        .post('/auth/reset-password')
        .set('X-Forwarded-For', randomIpv4())
        .send({ method: 'email', email, otp: delivery.delivery.code, newPassword: NEW_PASSWORD });
      expect({ status: reset.status, body: reset.body }).toEqual({ status: 200, body: { success: true } });
      expect((await signIn(NEW_PASSWORD)).status).toBe(200);
    });

    it('limits code requests per client address across numbers (SMS pumping): 100 addresses of one /64 get 30', async () => {
      const prefix = randomIpv6Prefix();
      const responses: Response[] = [];
      for (let i = 1; i <= 100; i++) {
        responses.push(
          await t
            .http()
            .post('/auth/otp/send')
            .set('X-Forwarded-For', `${prefix}::${i.toString(16)}`)
            .send({ method: 'phone', phone: uniquePhone().local }),
        );
      }
      expect(countStatuses(responses)).toEqual({ 200: 30, 429: 70 });
      expectTooMany(responses[30], 'RATE_LIMITED', 600);
    });
  });
}

describe('rate limits with memory storage', () => rateLimitSuite('memory'));
// Skipped, and said so at the top of the run, when no Redis is configured.
(REDIS_URL ? describe : describe.skip)('rate limits with redis storage', () =>
  rateLimitSuite({ redis: REDIS_URL ?? 'redis://unset' }),
);

describe('rate limits when Redis is unreachable', () => {
  let database: Awaited<ReturnType<TestDatabase['create']>>;
  let t: SecurityTestApp;

  beforeAll(async () => {
    database = await sqlite.create();
    // Nothing listens on port 1: every command fails at once.
    t = await createSecurityTestApp({
      database: database.options,
      auth: { rateLimit: { storage: { redis: 'redis://127.0.0.1:1', commandTimeout: 200 } } },
    });
  });

  afterAll(async () => {
    await t?.app.close();
    await database?.drop();
  });

  it('boots, and refuses an SMS code request with 503 SERVICE_UNAVAILABLE rather than sending it unlimited', async () => {
    const phone = uniquePhone();
    const started = Date.now();
    const res = await t.http().post('/auth/otp/send').send({ method: 'phone', phone: phone.local });
    expectError(res, 503, 'SERVICE_UNAVAILABLE');
    expect(Date.now() - started).toBeLessThan(2000);
    expect(t.sms.messages).toHaveLength(0);
  });

  it.each([
    [
      'POST /auth/sign-in (email)',
      '/auth/sign-in',
      () => ({ method: 'email', email: uniqueEmail(), password: GOOD_PASSWORD }),
    ],
    ['POST /auth/sign-in (phone)', '/auth/sign-in', () => ({ method: 'phone', phone: uniquePhone().local })],
    ['POST /auth/sign-up', '/auth/sign-up', () => ({ email: uniqueEmail(), password: GOOD_PASSWORD })],
    [
      'POST /auth/otp/verify',
      '/auth/otp/verify',
      () => ({ method: 'phone', phone: uniquePhone().local, otp: '123456' }),
    ],
    ['POST /auth/forgot-password', '/auth/forgot-password', () => ({ method: 'email', email: uniqueEmail() })],
    [
      'POST /auth/reset-password',
      '/auth/reset-password',
      () => ({ method: 'email', email: uniqueEmail(), otp: '123456', newPassword: NEW_PASSWORD }),
    ],
    ['POST /auth/verify-email', '/auth/verify-email', () => ({ email: uniqueEmail(), otp: '123456' })],
  ])('fails closed on %s: 503 SERVICE_UNAVAILABLE and nothing stored or sent', async (_name, path, body) => {
    const before = await tableCounts(t);
    expectError(await t.http().post(path).send(body()), 503, 'SERVICE_UNAVAILABLE');
    expect(await tableCounts(t)).toEqual(before);
    expect(t.sms.messages).toHaveLength(0);
  });
});

describe('rateLimit options', () => {
  const resolve = (rateLimit: unknown) =>
    resolveArrafAuthOptions({ secret: TEST_SECRET, rateLimit } as ArrafAuthOptions).rateLimit;

  it('defaults to memory storage and the documented limits, 100 failed sign-ins per account per hour among them', () => {
    const resolved = resolve(undefined);
    expect(resolved.storage).toEqual({ type: 'memory' });
    expect(Object.keys(resolved.limits).sort()).toEqual([...RATE_LIMIT_RULES].sort());
    expect(resolved.limits['sign-in:account']).toEqual({ limit: 100, window: 3600 });
  });

  it('reads a Redis URL, a command timeout and overrides with duration strings', () => {
    const resolved = resolve({
      storage: { redis: 'rediss://user:pw@redis.example:6380/2', commandTimeout: 300 },
      limits: { 'sign-up:ip': { limit: 7, window: '15m' } },
    });
    expect(resolved.storage).toEqual({
      type: 'redis',
      url: 'rediss://user:pw@redis.example:6380/2',
      commandTimeout: 300,
    });
    expect(resolved.limits['sign-up:ip']).toEqual({ limit: 7, window: 900 });
  });

  it.each([
    [{ storage: 'redis' }, "rateLimit.storage: must be 'memory' or { redis"],
    [{ storage: { redis: 'http://127.0.0.1:6379' } }, 'rateLimit.storage.redis: must be a URL such as redis://'],
    [{ storage: { redis: 'redis://127.0.0.1:6379', timeout: 5 } }, 'rateLimit.storage.timeout: is not a known option'],
    [{ limits: { 'sign-in:everything': { limit: 1 } } }, 'rateLimit.limits.sign-in:everything: is not a known option'],
    [{ limits: { 'sign-in:ip': { limit: 0 } } }, 'rateLimit.limits.sign-in:ip.limit: must be a whole number'],
    [
      { limits: { 'sign-in:ip': { window: 'soon' } } },
      'rateLimit.limits.sign-in:ip.window: must be a whole number of seconds',
    ],
  ])('stops the application at boot on %j', (rateLimit, message) => {
    expect(() => resolve(rateLimit)).toThrow(message);
  });
});

describe('client address buckets', () => {
  it.each([
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:0db8:0001:0002:ffff::1', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['::ffff:192.0.2.7', '192.0.2.7'],
    ['192.0.2.7', '192.0.2.7'],
    [undefined, 'unknown'],
  ])('counts %s as %s', (ip, bucket) => {
    expect(clientIpBucket(ip)).toBe(bucket);
  });
});
