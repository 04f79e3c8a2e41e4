import 'reflect-metadata';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { Session, TypeOrmSessionStore, type VerificationDelivery, VerificationService } from '../../src/index.js';
import { createPasswordTestApp, freshEmail, GOOD_PASSWORD, sessionCookie } from '../apps/password-test-app.js';
import { type TestDatabase, testDatabases } from '../helpers/databases.js';
import { sameSite } from '../helpers/same-site.js';

const NEW_PASSWORD = 'a brand new passphrase for 2026';

type Failure = 'none' | 'session-revocation' | 'after-session-revocation';

/**
 * Failure injection (issue 14, checklist F4): a password change or reset and the session
 * revocation it implies commit together or not at all. Each test makes one step throw inside the
 * transaction (the session store's revocation itself, or the step that runs after it), then shows
 * through the routes that neither the password nor the sessions changed.
 */
describe.each(testDatabases())('password change/reset and session revocation on $name', (db: TestDatabase) => {
  let database: Awaited<ReturnType<TestDatabase['create']>>;
  let app: INestApplication;
  const resets: VerificationDelivery[] = [];
  let failing: Failure = 'none';

  /** The default store, except that revoking a user's sessions can be made to throw. */
  class FlakySessionStore extends TypeOrmSessionStore {
    override async deleteByUser(...args: Parameters<TypeOrmSessionStore['deleteByUser']>): Promise<number> {
      if (failing === 'session-revocation') throw new Error('injected: session revocation failed');
      return super.deleteByUser(...args);
    }
  }

  /** The real service, except that voiding reset secrets (the step after the revocation) can throw. */
  class FlakyVerificationService extends VerificationService {
    override async revoke(...args: Parameters<VerificationService['revoke']>): Promise<void> {
      await super.revoke(...args);
      if (failing === 'after-session-revocation') throw new Error('injected: a later step failed');
    }
  }

  const http = () => request(app.getHttpServer());
  const signIn = (email: string, password: string) =>
    http().post('/auth/sign-in').send({ method: 'email', email, password });
  const isSignedIn = async (cookie: string) =>
    (await http().get('/auth/session').set('Cookie', cookie).expect(200)).body.user !== null;
  const sessionCount = (userId: string) => app.get(DataSource).getRepository(Session).countBy({ userId });

  beforeAll(async () => {
    database = await db.create();
    ({ app } = await createPasswordTestApp({
      database: database.options,
      auth: { callbacks: { onForgotPassword: (delivery) => void resets.push(delivery) } },
      configure: (builder) =>
        builder
          .overrideProvider(TypeOrmSessionStore)
          .useClass(FlakySessionStore)
          .overrideProvider(VerificationService)
          .useClass(FlakyVerificationService),
    }));
  });

  afterAll(async () => {
    await app?.close();
    await database?.drop();
  });

  beforeEach(() => {
    failing = 'none';
  });

  /** An account with two sessions: the one from sign-up and another from a sign-in. */
  async function account() {
    const email = freshEmail('atomic');
    const res = await http().post('/auth/sign-up').send({ email, password: GOOD_PASSWORD }).expect(201);
    const other = sessionCookie(await signIn(email, GOOD_PASSWORD).expect(200));
    return { email, id: res.body.user.id as string, cookie: sessionCookie(res), other };
  }

  async function expectNothingChanged(user: Awaited<ReturnType<typeof account>>): Promise<void> {
    expect({ current: await isSignedIn(user.cookie), other: await isSignedIn(user.other) }).toEqual({
      current: true,
      other: true,
    });
    expect(await sessionCount(user.id)).toBe(2);
    expect((await signIn(user.email, NEW_PASSWORD)).status).toBe(401);
    // The old password still works (this adds a third session, hence checked last).
    await signIn(user.email, GOOD_PASSWORD).expect(200);
  }

  const change = (cookie: string) =>
    http()
      .post('/auth/change-password')
      .set(sameSite())
      .set('Cookie', cookie)
      .send({ currentPassword: GOOD_PASSWORD, newPassword: NEW_PASSWORD });

  async function resetWithCode(email: string) {
    await http().post('/auth/forgot-password').send({ method: 'email', email }).expect(200);
    const delivery = resets[resets.length - 1];
    expect(delivery.identifier).toBe(email);
    return http()
      .post('/auth/reset-password')
      .send({ method: 'email', email, otp: delivery.code, newPassword: NEW_PASSWORD });
  }

  it.each(['session-revocation', 'after-session-revocation'] as const)(
    'a password change whose %s fails keeps the old password and every session',
    async (failure) => {
      const user = await account();
      failing = failure;
      const res = await change(user.cookie);
      expect(res.status).toBeGreaterThanOrEqual(500);
      expect(res.body.error.code).toEqual(expect.any(String));
      failing = 'none';
      await expectNothingChanged(user);
    },
  );

  it.each(['session-revocation', 'after-session-revocation'] as const)(
    'a password reset whose %s fails keeps the old password and every session',
    async (failure) => {
      const user = await account();
      failing = failure;
      const res = await resetWithCode(user.email);
      expect(res.status).toBeGreaterThanOrEqual(500);
      failing = 'none';
      await expectNothingChanged(user);
    },
  );

  it('without an injected failure, the same change and reset do revoke (the tests above can fail)', async () => {
    const changed = await account();
    await change(changed.cookie).expect(200, { success: true, revoked: 1 });
    expect({ current: await isSignedIn(changed.cookie), other: await isSignedIn(changed.other) }).toEqual({
      current: true,
      other: false,
    });

    const reset = await account();
    await (
      await resetWithCode(reset.email)
    ).status;
    expect(await sessionCount(reset.id)).toBe(0);
    await signIn(reset.email, NEW_PASSWORD).expect(200);
  });
});
