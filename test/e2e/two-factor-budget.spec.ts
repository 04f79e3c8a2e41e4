import 'reflect-metadata';
import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import type { ArrafAuthOptions } from '../../src/index.js';
import { RateLimiter } from '../../src/rate-limit/rate-limiter.js';
import { twoFactorBudgetScope } from '../../src/two-factor/two-factor.constants.js';
import { failureBudgetKey } from '../../src/verification/verification.constants.js';
import { expectErrorBody, freshEmail, GOOD_PASSWORD, sessionCookie } from '../apps/password-test-app.js';
import { createTwoFactorTestApp, enrolAuthenticator, TWO_FACTOR_APP_URL } from '../apps/two-factor-test-app.js';
import { type TestDatabase, testDatabases } from '../helpers/databases.js';

const ORIGIN = { Origin: TWO_FACTOR_APP_URL };
const REDIS_URL = process.env.TEST_REDIS_URL;
/** `TWO_FACTOR_FAILURE_BUDGET.limit`: wrong second-factor codes a user may send per hour. */
const BUDGET = 15;

const sqlite = testDatabases().find((db) => db.name === 'sqlite')!;
type Storage = NonNullable<NonNullable<ArrafAuthOptions['rateLimit']>['storage']>;
/** The budget lives in the rate-limit store: both stores, Redis when one is configured. */
const STORES: { name: string; storage: Storage }[] = [
  { name: 'memory', storage: 'memory' },
  ...(REDIS_URL ? [{ name: 'redis', storage: { redis: REDIS_URL } }] : []),
];

describe.each(STORES)('the second-factor failure budget ($name store)', ({ storage }) => {
  let database: Awaited<ReturnType<TestDatabase['create']>>;
  let app: INestApplication;
  let offset = 0;

  const post = (path: string, cookie?: string) => {
    const req = request(app.getHttpServer()).post(path).set(ORIGIN);
    return cookie === undefined ? req : req.set('Cookie', cookie);
  };
  /** Step-up with the session: no pending sign-in and its five attempts in the way, only the budget. */
  const stepUp = (cookie: string, body: { code?: string; backupCode?: string }) =>
    post('/auth/two-factor/verify', cookie).send(body);

  /** A new account with an active authenticator: its session, authenticator, backup codes and id. */
  async function enrolled() {
    const signedUp = await post('/auth/sign-up').send({ email: freshEmail('budget'), password: GOOD_PASSWORD });
    const cookie = sessionCookie(signedUp);
    return { cookie, userId: signedUp.body.user.id as string, ...(await enrolAuthenticator(app, cookie)) };
  }

  /** A backup code of the same slot (first digit) as `code` that is not `code`. */
  function wrongInSlot(code: string, i: number): string {
    const typed = code.replace('-', '');
    const wrong = `${typed.slice(0, 6)}${String((Number(typed.slice(6)) + 1 + i) % 100_000).padStart(5, '0')}`;
    return `${wrong.slice(0, 5)}-${wrong.slice(5)}`;
  }

  beforeAll(async () => {
    const now = Date.now.bind(Date);
    jest.spyOn(Date, 'now').mockImplementation(() => now() + offset);
    database = await sqlite.create();
    ({ app } = await createTwoFactorTestApp(database.options, {
      rateLimit: { storage, limits: { 'sign-in:ip': { limit: 10_000, window: 600 } } },
    }));
  });

  afterEach(() => {
    offset = 0;
  });

  afterAll(async () => {
    jest.restoreAllMocks();
    await app?.close();
    await database?.drop();
  });

  it('wrong guesses never use a backup code up: after many on its slot, the code still works', async () => {
    const { cookie, backupCodes, userId } = await enrolled();
    const target = backupCodes[4];
    // Two rounds under the budget, the budget's window ending between them (what an hour does).
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < BUDGET - 1; i++) {
        expectErrorBody(
          await stepUp(cookie, { backupCode: wrongInSlot(target, round * BUDGET + i) }),
          400,
          'TWO_FACTOR_INVALID',
        );
      }
      await app.get(RateLimiter).resetKey(failureBudgetKey(twoFactorBudgetScope(userId)));
    }
    await stepUp(cookie, { backupCode: target }).expect(200);
    // Still single use.
    expectErrorBody(await stepUp(cookie, { backupCode: target }), 400, 'TWO_FACTOR_INVALID');
  });

  it('right codes spend nothing: the budget plus five right codes in a row pass, and the full budget is left', async () => {
    const { cookie, authenticator, backupCodes } = await enrolled();
    for (let i = 0; i < BUDGET + 5; i++) {
      // A new time step each time: a code is accepted once per step.
      offset = (i + 1) * 30_000;
      await stepUp(cookie, { code: await authenticator.code() }).expect(200);
    }
    // Right backup codes give their slot back too.
    for (const backupCode of backupCodes.slice(0, 3)) await stepUp(cookie, { backupCode }).expect(200);
    for (let i = 0; i < BUDGET; i++) {
      expectErrorBody(await stepUp(cookie, { code: String(100000 + i) }), 400, 'TWO_FACTOR_INVALID');
    }
    const refused = await stepUp(cookie, { code: '999999' });
    expectErrorBody(refused, 429, 'TWO_FACTOR_TOO_MANY_ATTEMPTS');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('parallel guesses never compare more codes than the budget, right codes among them or not', async () => {
    const { cookie, authenticator } = await enrolled();
    const right = await authenticator.code();
    const answers = await Promise.all([
      ...Array.from({ length: 2 * BUDGET }, (_, i) => stepUp(cookie, { code: String(200000 + i) })),
      stepUp(cookie, { code: right }),
    ]);
    const codes = answers.map((a) => (a.status === 200 ? 'OK' : (a.body.error?.code as string)));
    const invalid = codes.filter((c) => c === 'TWO_FACTOR_INVALID').length;
    const passed = codes.filter((c) => c === 'OK').length;
    expect(invalid).toBeLessThanOrEqual(BUDGET);
    // Every wrong code was either compared within the budget or refused before comparing.
    expect(invalid + codes.filter((c) => c === 'TWO_FACTOR_TOO_MANY_ATTEMPTS').length + passed).toBe(codes.length);
    expect(invalid + passed).toBeGreaterThanOrEqual(BUDGET);
    // The budget is spent now: even a right code waits.
    offset = 30_000;
    expectErrorBody(await stepUp(cookie, { code: await authenticator.code() }), 429, 'TWO_FACTOR_TOO_MANY_ATTEMPTS');
  });
});
