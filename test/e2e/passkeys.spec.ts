import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { Passkey, SecurityEvent, Session, Verification } from '../../src/index.js';
import type { InMemorySmsProvider } from '../../src/testing/index.js';
import { expectErrorBody, freshEmail, GOOD_PASSWORD, sessionCookie } from '../apps/password-test-app.js';
import {
  Authenticator,
  cookieFrom,
  createTwoFactorTestApp,
  setCookies,
  SoftPasskey,
  TWO_FACTOR_APP_URL,
} from '../apps/two-factor-test-app.js';
import { type TestDatabase, testDatabases } from '../helpers/databases.js';

const ORIGIN = { Origin: TWO_FACTOR_APP_URL };
const PENDING = 'arraf_2fa_pending';

describe.each(testDatabases())('passkey routes on $name', (db: TestDatabase) => {
  let database: Awaited<ReturnType<TestDatabase['create']>>;
  let app: INestApplication;
  let noAppUrl: INestApplication;
  let required: INestApplication;
  let sms: InMemorySmsProvider;

  const http = (target = app) => request(target.getHttpServer());

  async function signUp(target = app): Promise<{ cookie: string; userId: string }> {
    const res = await http(target)
      .post('/auth/sign-up')
      .set(ORIGIN)
      .send({ email: freshEmail('pk'), password: GOOD_PASSWORD })
      .expect(201);
    return { cookie: sessionCookie(res), userId: res.body.user.id };
  }

  /** A stored passkey row (what a verified registration writes), for the management routes. */
  async function storedPasskey(userId: string, target = app): Promise<Passkey> {
    const passkey = {
      id: randomUUID(),
      userId,
      credentialId: `cred-${randomUUID()}`,
      publicKey: 'pQECAyYgASFYIA',
      counter: 3,
      transports: 'internal,hybrid',
      name: 'Phone',
      deviceType: 'multiDevice',
      backedUp: true,
      lastUsedAt: null,
    };
    await target.get(DataSource).getRepository(Passkey).insert(passkey);
    return target.get(DataSource).getRepository(Passkey).findOneByOrFail({ id: passkey.id });
  }

  beforeAll(async () => {
    database = await db.create();
    ({ app, sms } = await createTwoFactorTestApp(database.options, { otp: { resendCooldown: 0 } }));
    ({ app: noAppUrl } = await createTwoFactorTestApp(database.options, {
      appUrl: undefined,
      trustedOrigins: [TWO_FACTOR_APP_URL],
    }));
    ({ app: required } = await createTwoFactorTestApp(database.options, { twoFactor: { required: true } }));
  });

  afterAll(async () => {
    await app?.close();
    await noAppUrl?.close();
    await required?.close();
    await database?.drop();
  });

  it('registration options: signed in and fresh, bound to the RP ID of appUrl, discoverable, excluding known credentials', async () => {
    expectErrorBody(await http().post('/auth/passkey/register/options').set(ORIGIN), 401, 'UNAUTHENTICATED');
    const { cookie, userId } = await signUp();
    const existing = await storedPasskey(userId);
    const res = await http().post('/auth/passkey/register/options').set(ORIGIN).set('Cookie', cookie).expect(200);
    expect(res.body.rp).toEqual({ name: 'Arraf', id: 'app.example.test' });
    expect(Buffer.from(res.body.user.id, 'base64url').toString()).toBe(userId);
    expect(res.body.authenticatorSelection).toMatchObject({ residentKey: 'required', requireResidentKey: true });
    expect(res.body.excludeCredentials).toEqual([
      { id: existing.credentialId, type: 'public-key', transports: ['internal', 'hybrid'] },
    ]);
    expect(res.body.challenge).toMatch(/^[A-Za-z0-9_-]{43,}$/);
    expect(res.body.timeout).toBeGreaterThan(0);

    await app
      .get(DataSource)
      .getRepository(Session)
      .update({ userId }, { createdAt: new Date(Date.now() - 2 * 86_400_000) });
    expectErrorBody(
      await http().post('/auth/passkey/register/options').set(ORIGIN).set('Cookie', cookie),
      403,
      'SESSION_NOT_FRESH',
    );
  });

  it('sign-in options ask for a discoverable passkey (no allow list); an unknown or malformed answer is refused', async () => {
    const options = await http().post('/auth/passkey/authenticate/options').set(ORIGIN).expect(200);
    expect(options.body.rpId).toBe('app.example.test');
    expect(options.body.allowCredentials ?? []).toEqual([]);
    const other = await http().post('/auth/passkey/authenticate/options').set(ORIGIN).expect(200);
    expect(other.body.challenge).not.toBe(options.body.challenge);

    const forged = {
      response: {
        id: 'bm9uZQ',
        rawId: 'bm9uZQ',
        type: 'public-key',
        response: { clientDataJSON: 'e30', authenticatorData: 'AA', signature: 'AA' },
        clientExtensionResults: {},
      },
    };
    const refused = await http().post('/auth/passkey/authenticate/verify').set(ORIGIN).send(forged);
    expectErrorBody(refused, 400, 'PASSKEY_INVALID');
    expect(refused.headers['set-cookie']).toBeUndefined();
    expectErrorBody(
      await http()
        .post('/auth/passkey/authenticate/verify')
        .set(ORIGIN)
        .send({ response: { id: 'x' } }),
      400,
      'INVALID_INPUT',
    );
  });

  it("lists, renames and deletes one's own passkeys only", async () => {
    const owner = await signUp();
    const stranger = await signUp();
    const mine = await storedPasskey(owner.userId);
    const theirs = await storedPasskey(stranger.userId);

    const list = await http().get('/auth/passkeys').set('Cookie', owner.cookie).expect(200);
    expect(list.body).toStrictEqual({
      passkeys: [
        {
          id: mine.id,
          name: 'Phone',
          deviceType: 'multiDevice',
          backedUp: true,
          transports: ['internal', 'hybrid'],
          createdAt: expect.any(String),
          lastUsedAt: null,
        },
      ],
    });
    expect(JSON.stringify(list.body)).not.toContain(mine.publicKey);

    const renamed = await http()
      .patch(`/auth/passkeys/${mine.id}`)
      .set(ORIGIN)
      .set('Cookie', owner.cookie)
      .send({ name: '  هاتفي  ' })
      .expect(200);
    expect(renamed.body.passkey.name).toBe('هاتفي');
    expectErrorBody(
      await http().patch(`/auth/passkeys/${mine.id}`).set(ORIGIN).set('Cookie', owner.cookie).send({ name: '' }),
      400,
      'INVALID_INPUT',
    );
    expectErrorBody(
      await http().patch(`/auth/passkeys/${theirs.id}`).set(ORIGIN).set('Cookie', owner.cookie).send({ name: 'x' }),
      404,
      'PASSKEY_NOT_FOUND',
    );
    expectErrorBody(
      await http().delete(`/auth/passkeys/${theirs.id}`).set(ORIGIN).set('Cookie', owner.cookie),
      404,
      'PASSKEY_NOT_FOUND',
    );
    expectErrorBody(
      await http().delete('/auth/passkeys/not-an-id').set(ORIGIN).set('Cookie', owner.cookie),
      404,
      'PASSKEY_NOT_FOUND',
    );
    const passkeys = app.get(DataSource).getRepository(Passkey);
    expect(await passkeys.countBy({ id: theirs.id })).toBe(1);
    await http()
      .delete(`/auth/passkeys/${mine.id}`)
      .set(ORIGIN)
      .set('Cookie', owner.cookie)
      .expect(200, { success: true });
    expect(await passkeys.countBy({ id: mine.id })).toBe(0);
    // Only the removal that happened is recorded, for its owner.
    expect(await eventsOf(owner.userId, 'passkey.removed')).toEqual([['passkey', { passkeyId: mine.id }]]);
    expect(await eventsOf(stranger.userId, 'passkey.removed')).toEqual([]);
  });

  it('counts passkey sign-in attempts per address (sign-in:ip)', async () => {
    const { app: limited } = await createTwoFactorTestApp(database.options, {
      rateLimit: { limits: { 'sign-in:ip': { limit: 2, window: 600 } } },
    });
    try {
      await http(limited).post('/auth/passkey/authenticate/options').set(ORIGIN).expect(200);
      await http(limited).post('/auth/passkey/authenticate/options').set(ORIGIN).expect(200);
      const refused = await http(limited).post('/auth/passkey/authenticate/options').set(ORIGIN);
      expectErrorBody(refused, 429, 'RATE_LIMITED');
      expect(refused.headers['retry-after']).toMatch(/^[1-9][0-9]*$/);
      expectErrorBody(
        await http(limited).post('/auth/two-factor/verify').set(ORIGIN).send({ code: '123456' }),
        429,
        'RATE_LIMITED',
      );
    } finally {
      await limited.close();
    }
  });

  it('without appUrl the passkey routes answer 404', async () => {
    const { cookie } = await signUp(noAppUrl);
    expectErrorBody(await http(noAppUrl).post('/auth/passkey/authenticate/options').set(ORIGIN), 404, 'NOT_FOUND');
    expectErrorBody(
      await http(noAppUrl).post('/auth/passkey/register/options').set(ORIGIN).set('Cookie', cookie),
      404,
      'NOT_FOUND',
    );
  });

  /** Enables and confirms TOTP for the session `cookie`; returns the authenticator. */
  async function enrolTotp(cookie: string): Promise<Authenticator> {
    const enabled = await http().post('/auth/two-factor/enable').set(ORIGIN).set('Cookie', cookie).expect(200);
    const authenticator = new Authenticator(enabled.body.totpUri);
    await http()
      .post('/auth/two-factor/confirm')
      .set(ORIGIN)
      .set('Cookie', cookie)
      .send({ code: await authenticator.code(-1) })
      .expect(200);
    return authenticator;
  }

  /** `POST passkey/authenticate/verify` with a fresh challenge answered by `passkey`, and `cookie` if given. */
  async function passkeySignIn(passkey: SoftPasskey, cookie?: string, assertion: { userVerified?: boolean } = {}) {
    const options = await http().post('/auth/passkey/authenticate/options').set(ORIGIN).expect(200);
    const req = http().post('/auth/passkey/authenticate/verify').set(ORIGIN);
    if (cookie !== undefined) req.set('Cookie', cookie);
    return req.send({ response: passkey.assertion(options.body, assertion) });
  }

  /** A password sign-in of an account with TOTP on: `{ twoFactorRequired, methods }` and the pending cookie. */
  async function firstFactor(email: string): Promise<{ methods: string[]; pending: string }> {
    const res = await http()
      .post('/auth/sign-in')
      .set(ORIGIN)
      .send({ method: 'email', email, password: GOOD_PASSWORD })
      .expect(200);
    expect(res.body.twoFactorRequired).toBe(true);
    expect(cookieFrom(res, 'auth_session')).toBeUndefined();
    return { methods: res.body.methods, pending: cookieFrom(res, PENDING)! };
  }

  /** `POST two-factor/verify` with the pending cookie `pending` and an authenticator code. */
  const verifyPending = (pending: string, code: string) =>
    http().post('/auth/two-factor/verify').set(ORIGIN).set('Cookie', pending).send({ code });

  /** The account's `type` events, as `[method, detail]` (detail parsed), oldest first. */
  async function eventsOf(userId: string, type: string): Promise<[string | null, unknown][]> {
    const rows = await app.get(DataSource).getRepository(SecurityEvent).find({ where: { userId, type } });
    rows.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
    return rows.map((row) => [row.method, row.detail === null ? null : JSON.parse(row.detail)]);
  }

  async function emailAccount(): Promise<{ email: string; cookie: string; userId: string }> {
    const email = freshEmail('pk2fa');
    const res = await http().post('/auth/sign-up').set(ORIGIN).send({ email, password: GOOD_PASSWORD }).expect(201);
    return { email, cookie: sessionCookie(res), userId: res.body.user.id };
  }

  it('signs in with a discoverable passkey that verified its user; without user verification it is refused', async () => {
    const { userId } = await signUp();
    const passkey = new SoftPasskey(userId);
    await passkey.store(app);
    const options = await http().post('/auth/passkey/authenticate/options').set(ORIGIN).expect(200);
    expect(options.body.userVerification).toBe('required');

    const unverified = await passkeySignIn(passkey, undefined, { userVerified: false });
    expectErrorBody(unverified, 400, 'PASSKEY_INVALID');
    expect(unverified.headers['set-cookie']).toBeUndefined();

    const res = await passkeySignIn(passkey);
    expect(res.status).toBe(200);
    expect(res.body.user.id).toBe(userId);
    expect(cookieFrom(res, 'auth_session')).toBeDefined();
    // A passkey counts as two factors: the session passes step-up at once.
    await http().post('/app/vault').set(ORIGIN).set('Cookie', sessionCookie(res)).expect(201, { opened: userId });
    const signIns = await eventsOf(userId, 'sign_in.succeeded');
    expect(signIns.at(-1)).toEqual(['passkey', { sessionId: expect.any(String) }]);
  });

  it("a first factor lists 'passkey' when the account has one, and the account's passkey completes the pending sign-in", async () => {
    const owner = await emailAccount();
    const authenticator = await enrolTotp(owner.cookie);
    expect((await firstFactor(owner.email)).methods).toEqual(['totp', 'backup_code']);
    const passkey = new SoftPasskey(owner.userId);
    await passkey.store(app);

    const { methods, pending } = await firstFactor(owner.email);
    expect(methods).toEqual(['totp', 'backup_code', 'passkey']);
    const res = await passkeySignIn(passkey, pending);
    expect(res.status).toBe(200);
    expect(res.body.user.id).toBe(owner.userId);
    const signedIn = sessionCookie(res);
    // The pending cookie is cleared, and the pending state is spent: its code no longer completes it.
    expect(setCookies(res).some((c) => c.startsWith(`${PENDING}=;`) && /Max-Age=0/.test(c))).toBe(true);
    expect(cookieFrom(res, PENDING)).toBeUndefined();
    expectErrorBody(await verifyPending(pending, await authenticator.code()), 401, 'TWO_FACTOR_PENDING_EXPIRED');
    await http().get('/app/me').set('Cookie', signedIn).expect(200, { id: owner.userId });
    await http().post('/app/vault').set(ORIGIN).set('Cookie', signedIn).expect(201, { opened: owner.userId });
    // Recorded by the sign-in edge like a code: the passkey as the method, the password as the first factor.
    const signIns = await eventsOf(owner.userId, 'sign_in.succeeded');
    expect(signIns.at(-1)).toEqual(['passkey', { sessionId: expect.any(String), firstFactor: 'password' }]);
  });

  it("another account's passkey does not complete a pending sign-in, and ends it: cookie cleared, state gone", async () => {
    const owner = await emailAccount();
    const authenticator = await enrolTotp(owner.cookie);
    await new SoftPasskey(owner.userId).store(app);
    const stranger = await signUp();
    const strangerPasskey = new SoftPasskey(stranger.userId);
    await strangerPasskey.store(app);

    const { pending } = await firstFactor(owner.email);
    const refused = await passkeySignIn(strangerPasskey, pending);
    expectErrorBody(refused, 400, 'PASSKEY_INVALID');
    expect(cookieFrom(refused, 'auth_session')).toBeUndefined();
    expect(setCookies(refused).some((c) => c.startsWith(`${PENDING}=;`) && /Max-Age=0/.test(c))).toBe(true);
    const sessions = app.get(DataSource).getRepository(Session);
    expect(await sessions.countBy({ userId: stranger.userId })).toBe(1);
    expect(await eventsOf(owner.userId, 'sign_in.failed')).toEqual([['passkey', { reason: 'PASSKEY_INVALID' }]]);
    // The pending state is gone: whoever kept the cookie cannot finish with the owner's code.
    const pendingRows = app.get(DataSource).getRepository(Verification);
    expect(await pendingRows.countBy({ type: 'two-factor:pending', identifier: `${owner.userId}:email` })).toBe(0);
    expectErrorBody(await verifyPending(pending, await authenticator.code()), 401, 'TWO_FACTOR_PENDING_EXPIRED');

    // The owner signs in again and completes with their own code.
    const again = await firstFactor(owner.email);
    const done = await verifyPending(again.pending, await authenticator.code()).expect(200);
    expect(done.body.user.id).toBe(owner.userId);
  });

  it('a pending cookie that is no longer pending does not stop a passkey sign-in, and is cleared', async () => {
    const owner = await emailAccount();
    await enrolTotp(owner.cookie);
    const passkey = new SoftPasskey(owner.userId);
    await passkey.store(app);
    const { pending } = await firstFactor(owner.email);
    await app
      .get(DataSource)
      .getRepository(Verification)
      .update({ type: 'two-factor:pending' }, { expiresAt: new Date(Date.now() - 1000) });
    const res = await passkeySignIn(passkey, pending);
    expect(res.status).toBe(200);
    expect(res.body.user.id).toBe(owner.userId);
    expect(setCookies(res).some((c) => c.startsWith(`${PENDING}=;`))).toBe(true);
  });

  it('with twoFactor.required, a passkey counts as the enrolled second factor, and a password sign-in then needs it', async () => {
    const email = freshEmail('pkreq');
    const created = await http(required)
      .post('/auth/sign-up')
      .set(ORIGIN)
      .send({ email, password: GOOD_PASSWORD })
      .expect(201);
    const { cookie, userId } = { cookie: sessionCookie(created), userId: created.body.user.id as string };
    expectErrorBody(await http(required).get('/app/me').set('Cookie', cookie), 403, 'TWO_FACTOR_ENROLMENT_REQUIRED');
    await http(required).get('/auth/passkeys').set('Cookie', cookie).expect(200);
    await http(required).post('/auth/passkey/register/options').set(ORIGIN).set('Cookie', cookie).expect(200);
    const passkey = new SoftPasskey(userId);
    await passkey.store(required);
    await http(required).get('/app/me').set('Cookie', cookie).expect(200, { id: userId });

    // The password alone no longer signs in: it stops at the passkey step, which the pending cookie cannot skip.
    const first = await http(required)
      .post('/auth/sign-in')
      .set(ORIGIN)
      .send({ method: 'email', email, password: GOOD_PASSWORD })
      .expect(200);
    expect(first.body).toStrictEqual({ twoFactorRequired: true, methods: ['passkey'] });
    expect(cookieFrom(first, 'auth_session')).toBeUndefined();
    const pending = cookieFrom(first, PENDING)!;
    expectErrorBody(await http(required).get('/app/me').set('Cookie', pending), 401, 'UNAUTHENTICATED');

    const options = await http(required).post('/auth/passkey/authenticate/options').set(ORIGIN).expect(200);
    const done = await http(required)
      .post('/auth/passkey/authenticate/verify')
      .set(ORIGIN)
      .set('Cookie', pending)
      .send({ response: passkey.assertion(options.body) })
      .expect(200);
    expect(done.body.user.id).toBe(userId);
    const signedIn = sessionCookie(done);
    await http(required).get('/app/me').set('Cookie', signedIn).expect(200, { id: userId });
    await http(required).post('/app/vault').set(ORIGIN).set('Cookie', signedIn).expect(201, { opened: userId });
  });

  it('a passkey-only account: a password sign-in stops at the passkey step, a code cannot complete it, the passkey can', async () => {
    const owner = await emailAccount();
    const session = () => http().get('/auth/session').set('Cookie', owner.cookie).expect(200);
    expect((await session()).body.twoFactor).toStrictEqual({ enabled: false, methods: [] });
    const passkey = new SoftPasskey(owner.userId);
    await passkey.store(app);
    expect((await session()).body.twoFactor).toStrictEqual({ enabled: true, methods: ['passkey'] });

    const { methods, pending } = await firstFactor(owner.email);
    expect(methods).toEqual(['passkey']);
    expect(pending).toBeDefined();
    expectErrorBody(await http().get('/app/me').set('Cookie', pending), 401, 'UNAUTHENTICATED');
    // No authenticator app: a code or a backup code is refused, sets no cookie, and the pending state stays.
    for (const body of [{ code: '123456' }, { backupCode: '01234567890' }]) {
      const refused = await http().post('/auth/two-factor/verify').set(ORIGIN).set('Cookie', pending).send(body);
      expectErrorBody(refused, 400, 'TWO_FACTOR_NOT_ENABLED');
      expect(cookieFrom(refused, 'auth_session')).toBeUndefined();
    }
    expect(await eventsOf(owner.userId, 'sign_in.failed')).toEqual([
      ['totp', { reason: 'TWO_FACTOR_NOT_ENABLED' }],
      ['backup_code', { reason: 'TWO_FACTOR_NOT_ENABLED' }],
    ]);

    const res = await passkeySignIn(passkey, pending);
    expect(res.status).toBe(200);
    expect(res.body.user.id).toBe(owner.userId);
    expect(setCookies(res).some((c) => c.startsWith(`${PENDING}=;`))).toBe(true);
    const signedIn = sessionCookie(res);
    await http().post('/app/vault').set(ORIGIN).set('Cookie', signedIn).expect(201, { opened: owner.userId });
    const signIns = await eventsOf(owner.userId, 'sign_in.succeeded');
    expect(signIns.at(-1)).toEqual(['passkey', { sessionId: expect.any(String), firstFactor: 'password' }]);
  });

  it('a phone code of a passkey-only account stops at the passkey step too', async () => {
    const phone = '+966552' + String(Math.floor(100000 + Math.random() * 899999));
    const post = (path: string, cookie?: string) => {
      const req = http().post(path).set(ORIGIN);
      return cookie === undefined ? req : req.set('Cookie', cookie);
    };
    await post('/auth/otp/send').send({ method: 'phone', phone }).expect(200);
    const created = await post('/auth/otp/verify')
      .send({ method: 'phone', phone, otp: sms.lastCodeFor(phone) })
      .expect(200);
    const passkey = new SoftPasskey(created.body.user.id);
    await passkey.store(app);

    await post('/auth/otp/send').send({ method: 'phone', phone }).expect(200);
    const res = await post('/auth/otp/verify')
      .send({ method: 'phone', phone, otp: sms.lastCodeFor(phone) })
      .expect(200);
    expect(res.body).toStrictEqual({ twoFactorRequired: true, methods: ['passkey'] });
    expect(cookieFrom(res, 'auth_session')).toBeUndefined();
    const done = await passkeySignIn(passkey, cookieFrom(res, PENDING));
    expect(done.status).toBe(200);
    expect(done.body.user.phone).toBe(phone);
    const signIns = await eventsOf(created.body.user.id, 'sign_in.succeeded');
    expect(signIns.at(-1)).toEqual(['passkey', { sessionId: expect.any(String), firstFactor: 'phone' }]);
  });

  it('GET /auth/session lists every second factor; turning TOTP off leaves the passkey step', async () => {
    const owner = await emailAccount();
    const authenticator = await enrolTotp(owner.cookie);
    await new SoftPasskey(owner.userId).store(app);
    const session = () => http().get('/auth/session').set('Cookie', owner.cookie).expect(200);
    expect((await session()).body.twoFactor).toStrictEqual({
      enabled: true,
      methods: ['totp', 'backup_code', 'passkey'],
    });
    await http()
      .post('/auth/two-factor/disable')
      .set(ORIGIN)
      .set('Cookie', owner.cookie)
      .send({ code: await authenticator.code(1) })
      .expect(200);
    expect((await session()).body.twoFactor).toStrictEqual({ enabled: true, methods: ['passkey'] });
    expect((await firstFactor(owner.email)).methods).toEqual(['passkey']);
    // Backup codes belong to the authenticator app: none to regenerate without it.
    const regenerate = await http().post('/auth/two-factor/backup-codes').set(ORIGIN).set('Cookie', owner.cookie);
    expectErrorBody(regenerate, 400, 'TWO_FACTOR_NOT_ENABLED');
  });
});
