import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { AuthService, Session, type SignInContext, User, Verification } from '../../src/index.js';
import { expectErrorBody, freshEmail, GOOD_PASSWORD, sessionCookie } from '../apps/password-test-app.js';
import type { Platform } from '../apps/test-app.js';
import {
  cookieFrom,
  createTwoFactorTestApp,
  enrolAuthenticator,
  PENDING_COOKIE as PENDING,
  setCookies,
  SoftPasskey,
  TWO_FACTOR_APP_URL,
} from '../apps/two-factor-test-app.js';
import { type TestDatabase, testDatabases } from '../helpers/databases.js';

const ORIGIN = { Origin: TWO_FACTOR_APP_URL };
const PLATFORMS: Platform[] = ['express', 'fastify'];
const sqlite = testDatabases().find((db) => db.name === 'sqlite')!;

/** The edges of a pending sign-in: the application's `beforeSignIn` refusal, and a passkey of another account. */
describe.each(PLATFORMS)('pending second-factor sign-ins (%s)', (platform) => {
  let database: Awaited<ReturnType<TestDatabase['create']>>;
  let app: INestApplication;
  /** Users the application's `beforeSignIn` refuses (banned), and every call it got. */
  const banned = new Set<string>();
  const hookCalls: { userId: string; method: string }[] = [];

  const post = (path: string, cookie?: string) => {
    const req = request(app.getHttpServer()).post(path).set(ORIGIN);
    return cookie === undefined ? req : req.set('Cookie', cookie);
  };
  const callsOf = (userId: string) => hookCalls.filter((call) => call.userId === userId).map((call) => call.method);
  const pendingRowsOf = (userId: string) =>
    app
      .get(DataSource)
      .getRepository(Verification)
      .countBy({ type: 'two-factor:pending', identifier: `${userId}:email` });

  /** A new email account with an active authenticator. */
  async function enrolled() {
    const email = freshEmail('edge');
    const signedUp = await post('/auth/sign-up').send({ email, password: GOOD_PASSWORD }).expect(201);
    const { authenticator } = await enrolAuthenticator(app, sessionCookie(signedUp));
    return { email, authenticator, userId: signedUp.body.user.id as string };
  }

  const passwordSignIn = (email: string) =>
    post('/auth/sign-in').send({ method: 'email', email, password: GOOD_PASSWORD });

  async function passkeySignIn(passkey: SoftPasskey, cookie: string) {
    const options = await post('/auth/passkey/authenticate/options').expect(200);
    return post('/auth/passkey/authenticate/verify', cookie).send({ response: passkey.assertion(options.body) });
  }

  beforeAll(async () => {
    database = await sqlite.create();
    ({ app } = await createTwoFactorTestApp(
      database.options,
      {
        hooks: {
          beforeSignIn: ({ user, method }) => {
            hookCalls.push({ userId: user.id, method });
            if (banned.has(user.id)) throw new Error('banned');
          },
        },
      },
      platform,
    ));
  });

  afterAll(async () => {
    await app?.close();
    await database?.drop();
  });

  it('a user beforeSignIn refuses never reaches the second factor: the refusal, no pending cookie, no pending state', async () => {
    const { email, userId } = await enrolled();
    banned.add(userId);
    const refused = await passwordSignIn(email);
    expectErrorBody(refused, 403, 'HOOK_REJECTED');
    expect(setCookies(refused).filter((c) => c.startsWith(`${PENDING}=`) || c.startsWith('auth_session='))).toEqual([]);
    expect(await pendingRowsOf(userId)).toBe(0);
  });

  it('beforeSignIn runs once for a sign-in with a second factor: before the pending step, not again when it completes', async () => {
    const { email, authenticator, userId } = await enrolled();
    const before = callsOf(userId).length;
    const first = await passwordSignIn(email).expect(200);
    expect(first.body.twoFactorRequired).toBe(true);
    expect(callsOf(userId).slice(before)).toEqual(['email']);
    const done = await post('/auth/two-factor/verify', cookieFrom(first, PENDING))
      .send({ code: await authenticator.code() })
      .expect(200);
    expect(done.body.user.id).toBe(userId);
    expect(callsOf(userId).slice(before)).toEqual(['email']);

    // Completed with a passkey, the same; a passkey alone (no pending step) runs it once too.
    const passkey = new SoftPasskey(userId);
    await passkey.store(app);
    const second = await passwordSignIn(email).expect(200);
    const completed = await passkeySignIn(passkey, cookieFrom(second, PENDING)!);
    expect(completed.status).toBe(200);
    expect(callsOf(userId).slice(before)).toEqual(['email', 'email']);
    const options = await post('/auth/passkey/authenticate/options').expect(200);
    await post('/auth/passkey/authenticate/verify')
      .send({ response: passkey.assertion(options.body) })
      .expect(200);
    expect(callsOf(userId).slice(before)).toEqual(['email', 'email', 'passkey']);
  });

  it('beforeSignIn is skipped only by the module itself: a caller of AuthService.completeSignIn cannot opt out', async () => {
    const { userId } = await enrolled();
    banned.add(userId);
    const user = (await app.get(DataSource).getRepository(User).findOneBy({ id: userId }))!;
    // What the module marks internally once a pending sign-in's hook has run, tried through the public API.
    const context = { beforeSignInRan: true } as SignInContext;
    await expect(app.get(AuthService).completeSignIn(user, 'email', context)).rejects.toMatchObject({
      code: 'HOOK_REJECTED',
    });
    expect(await app.get(DataSource).getRepository(Session).countBy({ userId })).toBe(1);
  });

  it('a passkey of another account ends the pending sign-in: refused, the pending cookie cleared, its state gone', async () => {
    const owner = await enrolled();
    const stranger = await enrolled();
    const strangerPasskey = new SoftPasskey(stranger.userId);
    await strangerPasskey.store(app);
    const pending = cookieFrom(await passwordSignIn(owner.email).expect(200), PENDING)!;

    const refused = await passkeySignIn(strangerPasskey, pending);
    expectErrorBody(refused, 400, 'PASSKEY_INVALID');
    expect(cookieFrom(refused, 'auth_session')).toBeUndefined();
    expect(setCookies(refused).some((c) => c.startsWith(`${PENDING}=;`) && /Max-Age=0/.test(c))).toBe(true);
    expect(await pendingRowsOf(owner.userId)).toBe(0);
    expect(await app.get(DataSource).getRepository(Session).countBy({ userId: stranger.userId })).toBe(1);
    expectErrorBody(
      await post('/auth/two-factor/verify', pending).send({ code: await owner.authenticator.code() }),
      401,
      'TWO_FACTOR_PENDING_EXPIRED',
    );
  });
});
