import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Response, Test } from 'supertest';
import { DataSource } from 'typeorm';
import { Account, Session, SessionService, User } from '../../src/index.js';
import { GOOD_PASSWORD, sessionCookie } from '../apps/password-test-app.js';
import {
  APP_ORIGIN,
  createSecurityTestApp,
  randomIpv4,
  type SecurityTestApp,
  uniqueEmail,
  uniquePhone,
} from '../apps/security-test-app.js';
import { snapshotDatabase } from '../helpers/db-snapshot.js';
import { type TestDatabase, testDatabases } from '../helpers/databases.js';
import { type CutMode, startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { expectError } from './otp.helpers.js';

/**
 * Outages: a TCP proxy between the application and PostgreSQL (and Redis) is cut while the
 * application runs. Requests must answer 503 in the error shape within the configured timeouts,
 * write nothing, and everything must work again when the connection returns, with the same
 * application instance.
 */
const POSTGRES_URL = process.env.TEST_POSTGRES_URL;
const REDIS_URL = process.env.TEST_REDIS_URL;
if (!POSTGRES_URL) process.stdout.write('outage.spec: PostgreSQL outages SKIPPED: TEST_POSTGRES_URL not set\n');
if (!REDIS_URL) process.stdout.write('outage.spec: Redis outages SKIPPED: TEST_REDIS_URL not set\n');

/** The driver timeouts of the test app (README "Outages" recommends these kinds of settings). */
const PG_CONNECT_TIMEOUT_MS = 1000;
const PG_QUERY_TIMEOUT_MS = 1500;
const REDIS_COMMAND_TIMEOUT_MS = 300;
/** No request may take longer than this while a connection is cut: the timeouts above plus slack. */
const RESPONSE_BOUND_MS = 4000;
const MODES: CutMode[] = ['reset', 'blackhole'];
const NEW_PASSWORD = 'a brand new passphrase for 2026';

const survived = { postgres: 0, redis: 0, refused: 0, slowestMs: 0 };

/** Sends the request and checks it answered 503 SERVICE_UNAVAILABLE within the bound. */
async function expectUnavailable(send: () => PromiseLike<Response>, label: string): Promise<void> {
  const started = Date.now();
  const res = await send();
  const elapsed = Date.now() - started;
  expect({ label, status: res.status }).toEqual({ label, status: 503 });
  expectError(res, 503, 'SERVICE_UNAVAILABLE');
  expect(elapsed).toBeLessThan(RESPONSE_BOUND_MS);
  survived.refused += 1;
  survived.slowestMs = Math.max(survived.slowestMs, elapsed);
}

/** Polls `check` until it holds, for at most `ms`. */
async function eventually(check: () => Promise<boolean>, ms = 10_000): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await check()) return Date.now() - started;
    if (Date.now() - started > ms) throw new Error(`did not recover within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

afterAll(() => {
  process.stdout.write(
    `outage.spec: outages survived: PostgreSQL ${survived.postgres}, Redis ${survived.redis}; ` +
      `${survived.refused} requests answered 503 during them, the slowest in ${survived.slowestMs} ms\n`,
  );
});

(POSTGRES_URL ? describe : describe.skip)('PostgreSQL outages through a TCP proxy', () => {
  let database: Awaited<ReturnType<TestDatabase['create']>>;
  let proxy: TcpProxy;
  let t: SecurityTestApp;
  let cutInBeforeSignIn = false;

  beforeAll(async () => {
    const postgres = testDatabases().find((db) => db.name === 'postgres')!;
    database = await postgres.create();
    const url = (database.options as { url: string }).url;
    proxy = await startTcpProxy({ host: new URL(url).hostname, port: Number(new URL(url).port || 5432) });
    t = await createSecurityTestApp({
      database: { type: 'postgres', url: proxy.rewrite(url) },
      dataSource: {
        connectTimeoutMS: PG_CONNECT_TIMEOUT_MS,
        extra: { query_timeout: PG_QUERY_TIMEOUT_MS, statement_timeout: PG_QUERY_TIMEOUT_MS, max: 5 },
      },
      auth: {
        otp: { resendCooldown: 0 },
        hooks: {
          beforeSignIn: () => {
            if (!cutInBeforeSignIn) return;
            cutInBeforeSignIn = false;
            proxy.cut('reset');
          },
        },
      },
    });
  });

  afterAll(async () => {
    await t?.app.close();
    await proxy?.close();
    await database?.drop();
  });

  async function signUp(): Promise<{ email: string; cookie: string; sessionId: string }> {
    const email = uniqueEmail('outage');
    const res = await t
      .http()
      .post('/auth/sign-up')
      .set('X-Forwarded-For', randomIpv4())
      .send({ email, password: GOOD_PASSWORD });
    expect(res.status).toBe(201);
    return { email, cookie: sessionCookie(res), sessionId: res.body.session.id };
  }

  const me = (cookie: string) => t.http().get('/me').set('Cookie', cookie);

  it.each(MODES)(
    'with connections %s: guarded routes answer 503 in the error shape within the timeouts, never 200, and work again once the connection returns',
    async (mode) => {
      const user = await signUp();
      const other = await t
        .http()
        .post('/auth/sign-in')
        .send({ method: 'email', email: user.email, password: GOOD_PASSWORD });
      const otherId = other.body.session.id as string;
      expect((await me(user.cookie)).status).toBe(200);
      const before = await snapshotDatabase(t.app.get(DataSource));

      proxy.cut(mode);
      // As the app's own page sends them: state-changing cookie requests carry Origin.
      const withCookie = (req: Test) => req.set('Cookie', user.cookie).set('Origin', APP_ORIGIN);
      await expectUnavailable(() => withCookie(t.http().get('/me')), 'GET /me');
      await expectUnavailable(() => withCookie(t.http().post('/me/update')), 'POST /me/update');
      await expectUnavailable(() => withCookie(t.http().get('/auth/session')), 'GET /auth/session');
      await expectUnavailable(() => withCookie(t.http().get('/auth/sessions')), 'GET /auth/sessions');
      await expectUnavailable(
        () => withCookie(t.http().delete(`/auth/sessions/${otherId}`)),
        'DELETE /auth/sessions/:id',
      );
      await expectUnavailable(() => withCookie(t.http().post('/auth/sessions/revoke-others')), 'POST revoke-others');
      await expectUnavailable(() => withCookie(t.http().post('/auth/sign-out')), 'POST /auth/sign-out');
      // SessionService called from the application's own code fails the same way: 503, not a 500.
      const service = t.app.get(SessionService);
      const userId = other.body.user.id as string;
      const calls = await Promise.allSettled([
        service.listSessions(userId),
        service.revokeSession(otherId),
        service.revokeOtherSessions(userId, user.sessionId),
        service.revokeUserSessions(userId),
      ]);
      for (const call of calls) {
        expect(call).toMatchObject({ status: 'rejected', reason: { code: 'SERVICE_UNAVAILABLE' } });
      }
      proxy.restore();

      const recoveredIn = await eventually(async () => (await me(user.cookie)).status === 200);
      expect(recoveredIn).toBeLessThan(10_000);
      expect(await snapshotDatabase(t.app.get(DataSource))).toEqual(before);
      const sessions = await t.http().get('/auth/sessions').set('Cookie', user.cookie);
      expect(sessions.status).toBe(200);
      expect(sessions.body.sessions).toHaveLength(2);
      survived.postgres += 1;
    },
  );

  it.each(MODES)(
    'with connections %s: sign-in, sign-up, code and reset routes answer 503, write nothing and send nothing; afterwards the same requests succeed',
    async (mode) => {
      const user = await signUp();
      const phone = uniquePhone();
      expect((await t.http().post('/auth/otp/send').send({ method: 'phone', phone: phone.local })).status).toBe(200);
      const code = t.sms.lastCodeFor(phone.e164)!;
      const newcomer = uniqueEmail('newcomer');
      const before = await snapshotDatabase(t.app.get(DataSource));
      const sent = { sms: t.sms.messages.length, mail: t.mail.length };

      const signIn = () =>
        t.http().post('/auth/sign-in').send({ method: 'email', email: user.email, password: GOOD_PASSWORD });
      const signUpNew = () => t.http().post('/auth/sign-up').send({ email: newcomer, password: GOOD_PASSWORD });
      const verify = () => t.http().post('/auth/otp/verify').send({ method: 'phone', phone: phone.local, otp: code });

      proxy.cut(mode);
      await expectUnavailable(signIn, 'POST /auth/sign-in');
      await expectUnavailable(signUpNew, 'POST /auth/sign-up');
      await expectUnavailable(verify, 'POST /auth/otp/verify');
      await expectUnavailable(
        () => t.http().post('/auth/otp/send').send({ method: 'phone', phone: uniquePhone().local }),
        'POST /auth/otp/send',
      );
      await expectUnavailable(
        () => t.http().post('/auth/forgot-password').send({ method: 'email', email: user.email }),
        'POST /auth/forgot-password',
      );
      await expectUnavailable(
        () =>
          t
            .http()
            .post('/auth/reset-password')
            .send({ method: 'email', email: user.email, otp: '123456', newPassword: NEW_PASSWORD }),
        'POST /auth/reset-password',
      );
      proxy.restore();

      await eventually(async () => (await t.http().get('/auth/session')).status === 200);
      expect(await snapshotDatabase(t.app.get(DataSource))).toEqual(before);
      expect({ sms: t.sms.messages.length, mail: t.mail.length }).toEqual(sent);
      expect((await signIn()).status).toBe(200);
      expect((await signUpNew()).status).toBe(201);
      // The code sent before the outage was not spent by the refused attempt.
      expect((await verify()).status).toBe(200);
      survived.postgres += 1;
    },
  );

  it('a connection cut between account creation and session creation leaves a complete account and no session; the person signs in once it returns', async () => {
    const email = uniqueEmail('midway');
    cutInBeforeSignIn = true;
    await expectUnavailable(
      () => t.http().post('/auth/sign-up').send({ email, password: GOOD_PASSWORD }),
      'POST /auth/sign-up cut midway',
    );
    proxy.restore();
    await eventually(async () => (await t.http().get('/auth/session')).status === 200);

    const ds = t.app.get(DataSource);
    const user = await ds.getRepository(User).findOneByOrFail({ email });
    expect(await ds.getRepository(Account).countBy({ userId: user.id, providerId: 'credential' })).toBe(1);
    expect(await ds.getRepository(Session).countBy({ userId: user.id })).toBe(0);
    const signIn = await t.http().post('/auth/sign-in').send({ method: 'email', email, password: GOOD_PASSWORD });
    expect(signIn.status).toBe(200);
    survived.postgres += 1;
  });
});

(REDIS_URL ? describe : describe.skip)('Redis outages through a TCP proxy', () => {
  let database: Awaited<ReturnType<TestDatabase['create']>>;
  let proxy: TcpProxy;
  let t: SecurityTestApp;

  beforeAll(async () => {
    database = await testDatabases()[0].create();
    const redis = new URL(REDIS_URL!);
    proxy = await startTcpProxy({ host: redis.hostname, port: Number(redis.port || 6379) });
    t = await createSecurityTestApp({
      database: database.options,
      auth: {
        // The pumping guard's prefix and budget counters add up across suites on a shared Redis.
        otp: {
          resendCooldown: 0,
          prefixGuard: { maxSendsPerHour: 1_000_000, minSends: 1_000_000 },
          dailyBudget: 10_000_000,
        },
        rateLimit: { storage: { redis: proxy.rewrite(REDIS_URL!), commandTimeout: REDIS_COMMAND_TIMEOUT_MS } },
      },
    });
  });

  afterAll(async () => {
    await t?.app.close();
    await proxy?.close();
    await database?.drop();
  });

  it.each(MODES)(
    'with connections %s: code requests answer 503 and send no SMS, sign-in and sign-up answer 503 and store nothing; limits work again once Redis returns',
    async (mode) => {
      const email = uniqueEmail('redis-outage');
      expect((await t.http().post('/auth/sign-up').send({ email, password: GOOD_PASSWORD })).status).toBe(201);
      const before = await snapshotDatabase(t.app.get(DataSource));
      const smsBefore = t.sms.messages.length;
      const phone = uniquePhone();
      const send = () => t.http().post('/auth/otp/send').send({ method: 'phone', phone: phone.local });

      proxy.cut(mode);
      await expectUnavailable(send, 'POST /auth/otp/send');
      await expectUnavailable(
        () => t.http().post('/auth/sign-in').send({ method: 'email', email, password: GOOD_PASSWORD }),
        'POST /auth/sign-in',
      );
      await expectUnavailable(
        () =>
          t
            .http()
            .post('/auth/sign-up')
            .send({ email: uniqueEmail('x'), password: GOOD_PASSWORD }),
        'POST /auth/sign-up',
      );
      expect(t.sms.messages.length).toBe(smsBefore);
      expect(await snapshotDatabase(t.app.get(DataSource))).toEqual(before);
      proxy.restore();

      await eventually(async () => (await send()).status === 200);
      expect(t.sms.messages.filter((m) => m.to === phone.e164)).toHaveLength(1);
      expect(
        (await t.http().post('/auth/sign-in').send({ method: 'email', email, password: GOOD_PASSWORD })).status,
      ).toBe(200);
      survived.redis += 1;
    },
  );
});
