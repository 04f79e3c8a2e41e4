import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { SecurityEvent, Session, SessionService, TwoFactor, TwoFactorProof, Verification } from '../../src/index.js';
import type { InMemorySmsProvider } from '../../src/testing/index.js';
import { expectErrorBody, freshEmail, GOOD_PASSWORD, sessionCookie } from '../apps/password-test-app.js';
import { type Platform, TEST_SECRET } from '../apps/test-app.js';
import {
  Authenticator,
  cookieFrom,
  createTwoFactorTestApp,
  setCookies,
  TWO_FACTOR_APP_URL,
} from '../apps/two-factor-test-app.js';
import { type TestDatabase, testDatabases } from '../helpers/databases.js';

const PENDING = 'arraf_2fa_pending';
const ORIGIN = { Origin: TWO_FACTOR_APP_URL };

const PLATFORMS: Platform[] = ['express', 'fastify'];
/** Every database on Express; SQLite on Fastify too (cookies and redirects are written per platform). */
const CASES = [
  ...testDatabases().map((db) => ({ db, name: db.name, platform: 'express' as Platform })),
  ...testDatabases()
    .filter((db) => db.name === 'sqlite')
    .map((db) => ({ db, name: db.name, platform: PLATFORMS[1] })),
];

describe.each(CASES)('second factors on $name ($platform)', ({ db, platform }: (typeof CASES)[number]) => {
  let database: Awaited<ReturnType<TestDatabase['create']>>;
  let app: INestApplication;
  let sms: InMemorySmsProvider;
  const otpHooks: { phone: string; isNewUser: boolean }[] = [];

  const http = () => request(app.getHttpServer());
  const post = (path: string, cookie?: string) => {
    const req = http().post(path).set(ORIGIN);
    return cookie === undefined ? req : req.set('Cookie', cookie);
  };

  /** A new email account and its session cookie. */
  async function signUp(): Promise<{ email: string; cookie: string; userId: string }> {
    const email = freshEmail('tf');
    const res = await post('/auth/sign-up').send({ email, password: GOOD_PASSWORD }).expect(201);
    return { email, cookie: sessionCookie(res), userId: res.body.user.id };
  }

  /** Enables and confirms TOTP (with the previous period's code); returns the authenticator and backup codes. */
  async function enrol(cookie: string): Promise<{ authenticator: Authenticator; backupCodes: string[] }> {
    const enabled = await post('/auth/two-factor/enable', cookie).expect(200);
    const authenticator = new Authenticator(enabled.body.totpUri);
    await post('/auth/two-factor/confirm', cookie)
      .send({ code: await authenticator.code(-1) })
      .expect(200);
    return { authenticator, backupCodes: enabled.body.backupCodes };
  }

  /** A password sign-in that stops at the second factor; returns the pending cookie. */
  async function firstFactor(email: string): Promise<string> {
    const res = await post('/auth/sign-in').send({ method: 'email', email, password: GOOD_PASSWORD }).expect(200);
    expect(res.body).toStrictEqual({ twoFactorRequired: true, methods: ['totp', 'backup_code'] });
    expect(cookieFrom(res, 'auth_session')).toBeUndefined();
    const pending = cookieFrom(res, PENDING);
    expect(pending).toBeDefined();
    return pending!;
  }

  beforeAll(async () => {
    database = await db.create();
    ({ app, sms } = await createTwoFactorTestApp(
      database.options,
      {
        appName: 'Arraf Bank',
        otp: { resendCooldown: 0 },
        hooks: { afterOtpVerified: ({ phone, isNewUser }) => void otpHooks.push({ phone, isNewUser }) },
      },
      platform,
    ));
  });

  afterAll(async () => {
    await app?.close();
    await database?.drop();
  });

  it('enrols: otpauth URI with the app name as issuer, a PNG QR code, ten backup codes, active only once confirmed', async () => {
    const { email, cookie, userId } = await signUp();
    const enabled = await post('/auth/two-factor/enable', cookie).expect(200);
    const { totpUri, qrCode, backupCodes } = enabled.body as { totpUri: string; qrCode: string; backupCodes: string[] };
    const uri = new URL(totpUri);
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.host).toBe('totp');
    expect(uri.searchParams.get('issuer')).toBe('Arraf Bank');
    expect(uri.searchParams.get('algorithm')).toBe('SHA1');
    expect(uri.searchParams.get('digits')).toBe('6');
    expect(uri.searchParams.get('period')).toBe('30');
    expect(decodeURIComponent(uri.pathname)).toContain(email);
    expect(qrCode).toMatch(/^data:image\/png;base64,[A-Za-z0-9+/]+=*$/);
    expect(backupCodes).toHaveLength(10);
    expect(new Set(backupCodes).size).toBe(10);
    for (const code of backupCodes) expect(code).toMatch(/^[0-9]{6}-[0-9]{6}-[0-9]{6}$/);

    // Not active before confirmation: a password sign-in still gives a session.
    const before = await post('/auth/sign-in').send({ method: 'email', email, password: GOOD_PASSWORD }).expect(200);
    expect(before.body.session).toBeDefined();

    // The secret is sealed at rest, and no backup code is stored as typed.
    const dataSource = app.get(DataSource);
    const row = await dataSource.getRepository(TwoFactor).findOneByOrFail({ userId });
    const secret = new Authenticator(totpUri).secret.base32;
    expect(row.secret).not.toContain(secret);
    expect(row.secret).toMatch(/^v1\./);
    const stored = await dataSource.getRepository(Verification).find();
    for (const code of backupCodes) {
      for (const v of stored) expect(v.valueHash).not.toContain(code.replaceAll('-', '').slice(1));
    }

    const authenticator = new Authenticator(totpUri);
    expectErrorBody(await post('/auth/two-factor/confirm', cookie).send({ code: '000000' }), 400, 'TWO_FACTOR_INVALID');
    expectErrorBody(await post('/auth/two-factor/confirm', cookie).send({ code: 'abc' }), 400, 'INVALID_INPUT');
    await post('/auth/two-factor/confirm', cookie)
      .send({ code: await authenticator.code() })
      .expect(200, { success: true });
    expectErrorBody(await post('/auth/two-factor/enable', cookie), 409, 'TWO_FACTOR_ALREADY_ENABLED');

    const session = await http().get('/auth/session').set('Cookie', cookie).expect(200);
    expect(session.body.twoFactor).toStrictEqual({ enabled: true, methods: ['totp', 'backup_code'] });
  });

  it('a first factor gives a pending cookie, never a session; the code completes it once', async () => {
    const { email, cookie } = await signUp();
    const { authenticator } = await enrol(cookie);
    const res = await post('/auth/sign-in').send({ method: 'email', email, password: GOOD_PASSWORD }).expect(200);
    const line = setCookies(res).find((c) => c.startsWith(`${PENDING}=`))!;
    expect(line).toMatch(/; Max-Age=300(;|$)/);
    expect(line).toMatch(/; HttpOnly/);
    expect(line).toMatch(/; SameSite=Lax/);
    const pending = line.split(';')[0];
    expect(pending.length).toBeGreaterThan(PENDING.length + 40);

    // The pending cookie is no session: guarded routes and the session route do not accept it.
    expectErrorBody(await http().get('/app/me').set('Cookie', pending), 401, 'UNAUTHENTICATED');
    expectErrorBody(await post('/app/vault', pending), 401, 'UNAUTHENTICATED');
    const none = await http().get('/auth/session').set('Cookie', pending).expect(200);
    expect(none.body).toStrictEqual({ user: null, session: null });
    // Used as the session cookie, its value is no session either.
    const asSession = `auth_session=${pending.split('=')[1]}`;
    expectErrorBody(await http().get('/app/me').set('Cookie', asSession), 401, 'UNAUTHENTICATED');

    const code = await authenticator.code();
    const done = await post('/auth/two-factor/verify', pending).send({ code }).expect(200);
    expect(Object.keys(done.body).sort()).toEqual(['session', 'user']);
    expect(done.body.user.email).toBe(email);
    const signedIn = sessionCookie(done);
    expect(setCookies(done).some((c) => c.startsWith(`${PENDING}=;`))).toBe(true);
    await http().get('/app/me').set('Cookie', signedIn).expect(200, { id: done.body.user.id });

    // Single use: the same pending cookie again, and the same code on a new pending sign-in.
    expectErrorBody(
      await post('/auth/two-factor/verify', pending).send({ code: await authenticator.code(1) }),
      401,
      'TWO_FACTOR_PENDING_EXPIRED',
    );
    const again = await firstFactor(email);
    expectErrorBody(await post('/auth/two-factor/verify', again).send({ code }), 400, 'TWO_FACTOR_INVALID');
  });

  it('backup codes are single use, and regenerating voids the old set', async () => {
    const { email, cookie } = await signUp();
    const { backupCodes } = await enrol(cookie);
    const first = await firstFactor(email);
    const done = await post('/auth/two-factor/verify', first).send({ backupCode: backupCodes[3] }).expect(200);
    const signedIn = sessionCookie(done);

    const second = await firstFactor(email);
    expectErrorBody(
      await post('/auth/two-factor/verify', second).send({ backupCode: backupCodes[3] }),
      400,
      'TWO_FACTOR_INVALID',
    );
    expectErrorBody(
      await post('/auth/two-factor/verify', second).send({ backupCode: '999999-999999-999999' }),
      400,
      'TWO_FACTOR_INVALID',
    );

    const regenerated = await post('/auth/two-factor/backup-codes', signedIn).expect(200);
    expect(regenerated.body.backupCodes).toHaveLength(10);
    expectErrorBody(
      await post('/auth/two-factor/verify', second).send({ backupCode: backupCodes[5] }),
      400,
      'TWO_FACTOR_INVALID',
    );
    await post('/auth/two-factor/verify', second).send({ backupCode: regenerated.body.backupCodes[5] }).expect(200);
  });

  it('parallel wrong codes never exceed the pending attempts, and the pending sign-in dies with them', async () => {
    const { email, cookie } = await signUp();
    const { authenticator } = await enrol(cookie);
    const pending = await firstFactor(email);
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => post('/auth/two-factor/verify', pending).send({ code: String(100000 + i) })),
    );
    const codes = answers.map((a) => a.body.error?.code as string);
    expect(codes.filter((c) => c === 'TWO_FACTOR_INVALID')).toHaveLength(5);
    expect(
      codes
        .filter((c) => c !== 'TWO_FACTOR_INVALID')
        .every((c) => c === 'TWO_FACTOR_TOO_MANY_ATTEMPTS' || c === 'TWO_FACTOR_PENDING_EXPIRED'),
    ).toBe(true);
    const right = await post('/auth/two-factor/verify', pending).send({ code: await authenticator.code() });
    expectErrorBody(right, 401, 'TWO_FACTOR_PENDING_EXPIRED');
  });

  it('a pending sign-in dies after five minutes', async () => {
    const { email, cookie } = await signUp();
    const { authenticator } = await enrol(cookie);
    const pending = await firstFactor(email);
    await app
      .get(DataSource)
      .getRepository(Verification)
      .update({ type: 'two-factor:pending' }, { expiresAt: new Date(Date.now() - 1000) });
    expectErrorBody(
      await post('/auth/two-factor/verify', pending).send({ code: await authenticator.code() }),
      401,
      'TWO_FACTOR_PENDING_EXPIRED',
    );
  });

  it('a phone code as first factor stops at the second factor too', async () => {
    const phone = '+966551234' + String(Math.floor(100 + Math.random() * 899));
    await post('/auth/otp/send').send({ method: 'phone', phone }).expect(200);
    const created = await post('/auth/otp/verify')
      .send({ method: 'phone', phone, otp: sms.lastCodeFor(phone) })
      .expect(200);
    const { authenticator } = await enrol(sessionCookie(created));

    await post('/auth/otp/send').send({ method: 'phone', phone }).expect(200);
    const res = await post('/auth/otp/verify')
      .send({ method: 'phone', phone, otp: sms.lastCodeFor(phone) })
      .expect(200);
    expect(res.body).toStrictEqual({ twoFactorRequired: true, methods: ['totp', 'backup_code'] });
    expect(cookieFrom(res, 'auth_session')).toBeUndefined();
    expect(otpHooks.filter((h) => h.phone === phone)).toHaveLength(1);
    const done = await post('/auth/two-factor/verify', cookieFrom(res, PENDING)).send({
      code: await authenticator.code(),
    });
    expect(done.status).toBe(200);
    expect(done.body.user.phone).toBe(phone);
    // afterOtpVerified ran for the first sign-in, and for the second only once the code completed it.
    expect(otpHooks.filter((h) => h.phone === phone)).toEqual([
      { phone, isNewUser: true },
      { phone, isNewUser: false },
    ]);
  });

  it('step-up: @RequireTwoFactor() needs a second factor within twoFactor.freshAge', async () => {
    const plain = await signUp();
    expectErrorBody(await post('/app/vault', plain.cookie), 403, 'TWO_FACTOR_REQUIRED');

    const { email, cookie } = await signUp();
    const { authenticator } = await enrol(cookie);
    // Confirming the enrolment counts as passing it for the enrolling session.
    await post('/app/vault', cookie).expect(201);

    const pending = await firstFactor(email);
    const done = await post('/auth/two-factor/verify', pending)
      .send({ code: await authenticator.code() })
      .expect(200);
    const signedIn = sessionCookie(done);
    await post('/app/vault', signedIn).expect(201, { opened: done.body.user.id });

    // An old proof is refused; a step-up with a new code renews it.
    await app
      .get(DataSource)
      .getRepository(TwoFactorProof)
      .update({ sessionId: done.body.session.id }, { verifiedAt: new Date(Date.now() - 16 * 60_000) });
    expectErrorBody(await post('/app/vault', signedIn), 403, 'TWO_FACTOR_REQUIRED');
    expectErrorBody(
      await post('/auth/two-factor/verify', signedIn).send({ code: '123456' }),
      400,
      'TWO_FACTOR_INVALID',
    );
    const stepped = await post('/auth/two-factor/verify', signedIn)
      .send({ code: await authenticator.code(1) })
      .expect(200);
    expect(stepped.body.session.id).toBe(done.body.session.id);
    await post('/app/vault', signedIn).expect(201);
  });

  it('disabling needs a code; afterwards a password sign-in gives a session again', async () => {
    const { email, cookie } = await signUp();
    const { authenticator } = await enrol(cookie);
    expectErrorBody(await post('/auth/two-factor/disable', cookie).send({}), 400, 'INVALID_INPUT');
    expectErrorBody(
      await post('/auth/two-factor/disable', cookie).send({ code: '123456', backupCode: '012345-678901-234567' }),
      400,
      'INVALID_INPUT',
    );
    expectErrorBody(await post('/auth/two-factor/disable', cookie).send({ code: '000000' }), 400, 'TWO_FACTOR_INVALID');
    await post('/auth/two-factor/disable', cookie)
      .send({ code: await authenticator.code() })
      .expect(200, { success: true });
    const res = await post('/auth/sign-in').send({ method: 'email', email, password: GOOD_PASSWORD }).expect(200);
    expect(res.body.session).toBeDefined();
    expectErrorBody(await post('/auth/two-factor/backup-codes', cookie), 400, 'TWO_FACTOR_NOT_ENABLED');
  });

  it('the enrolment routes need a session, a fresh one for enable, and the checked password when one is sent', async () => {
    expectErrorBody(await post('/auth/two-factor/enable'), 401, 'UNAUTHENTICATED');
    const { cookie } = await signUp();
    expectErrorBody(
      await post('/auth/two-factor/enable', cookie).send({ password: 'wrong password here' }),
      401,
      'INVALID_CREDENTIALS',
    );
    await post('/auth/two-factor/enable', cookie).send({ password: GOOD_PASSWORD }).expect(200);
    const stale = await signUp();
    await app
      .get(DataSource)
      .getRepository(Session)
      .update({ userId: stale.userId }, { createdAt: new Date(Date.now() - 2 * 86_400_000) });
    expectErrorBody(await post('/auth/two-factor/enable', stale.cookie), 403, 'SESSION_NOT_FRESH');
    expectErrorBody(
      await http().post('/auth/two-factor/enable').set('Cookie', cookie).set('Origin', 'https://evil.example'),
      403,
      'INVALID_ORIGIN',
    );
  });

  it('opens secrets sealed under a rotated-out secret and re-seals them under the new one', async () => {
    const { email, cookie, userId } = await signUp();
    const { authenticator } = await enrol(cookie);
    const before = await app.get(DataSource).getRepository(TwoFactor).findOneByOrFail({ userId });
    const rotated = await createTwoFactorTestApp(database.options, {
      secret: ['rotated-secret-0123456789abcdefghijklmnopqrstuvwxyz', TEST_SECRET],
    });
    try {
      const res = await request(rotated.app.getHttpServer())
        .post('/auth/sign-in')
        .set(ORIGIN)
        .send({ method: 'email', email, password: GOOD_PASSWORD })
        .expect(200);
      await request(rotated.app.getHttpServer())
        .post('/auth/two-factor/verify')
        .set(ORIGIN)
        .set('Cookie', cookieFrom(res, PENDING)!)
        .send({ code: await authenticator.code() })
        .expect(200);
      const after = await app.get(DataSource).getRepository(TwoFactor).findOneByOrFail({ userId });
      expect(after.secret).not.toBe(before.secret);
    } finally {
      await rotated.app.close();
    }
    // The old-secret-only app can no longer open it: it was sealed under the new first secret.
    const pending = await firstFactor(email);
    expectErrorBody(
      await post('/auth/two-factor/verify', pending).send({ code: await authenticator.code(1) }),
      400,
      'TWO_FACTOR_INVALID',
    );
  });

  it('revokeOtherSessions: true on confirm, backup-codes and disable ends the other sessions and keeps this one', async () => {
    const { email, cookie, userId } = await signUp();
    const passwordSession = async () =>
      sessionCookie(await post('/auth/sign-in').send({ method: 'email', email, password: GOOD_PASSWORD }).expect(200));
    const alive = async (other: string) => (await http().get('/app/me').set('Cookie', other)).status === 200;
    const others = [await passwordSession(), await passwordSession()];

    const enabled = await post('/auth/two-factor/enable', cookie).expect(200);
    const authenticator = new Authenticator(enabled.body.totpUri);
    const confirmed = await post('/auth/two-factor/confirm', cookie)
      .send({ code: await authenticator.code(-1), revokeOtherSessions: true })
      .expect(200);
    expect(confirmed.body).toStrictEqual({ success: true, revoked: 2 });
    expect(await Promise.all(others.map(alive))).toEqual([false, false]);
    expect(await alive(cookie)).toBe(true);

    // Without the flag (no body at all), other sessions stay; with it, they end.
    const pending = await firstFactor(email);
    const second = sessionCookie(
      await post('/auth/two-factor/verify', pending)
        .send({ code: await authenticator.code() })
        .expect(200),
    );
    const kept = await post('/auth/two-factor/backup-codes', cookie).expect(200);
    expect(Object.keys(kept.body)).toEqual(['backupCodes']);
    expect(await alive(second)).toBe(true);
    expectErrorBody(
      await post('/auth/two-factor/backup-codes', cookie).send({ revokeOtherSessions: 'yes' }),
      400,
      'INVALID_INPUT',
    );
    expect(await alive(second)).toBe(true);
    const regenerated = await post('/auth/two-factor/backup-codes', cookie)
      .send({ revokeOtherSessions: true })
      .expect(200);
    expect(regenerated.body).toStrictEqual({ backupCodes: expect.any(Array), revoked: 1 });
    expect(regenerated.body.backupCodes).toHaveLength(10);
    expect(await alive(second)).toBe(false);

    const third = sessionCookie(
      await post('/auth/two-factor/verify', await firstFactor(email))
        .send({ backupCode: regenerated.body.backupCodes[0] })
        .expect(200),
    );
    const disabled = await post('/auth/two-factor/disable', cookie)
      .send({ code: await authenticator.code(1), revokeOtherSessions: true })
      .expect(200);
    expect(disabled.body).toStrictEqual({ success: true, revoked: 1 });
    expect(await alive(third)).toBe(false);
    expect(await alive(cookie)).toBe(true);
    const sessions = await app.get(DataSource).getRepository(Session).findBy({ userId });
    expect(sessions).toHaveLength(1);
    // Each change is recorded once, with the client that asked for it.
    const events = app.get(DataSource).getRepository(SecurityEvent);
    const recorded = async (type: string) => events.findBy({ userId, type });
    expect(await recorded('two_factor.enabled')).toEqual([expect.objectContaining({ method: 'totp' })]);
    expect(await recorded('two_factor.backup_codes_regenerated')).toHaveLength(2);
    expect(await recorded('two_factor.disabled')).toEqual([expect.objectContaining({ method: 'totp' })]);
  });

  it('turning the second factor off and ending the other sessions happen in one transaction', async () => {
    const { email, cookie, userId } = await signUp();
    const { backupCodes } = await enrol(cookie);
    const revoke = jest
      .spyOn(app.get(SessionService), 'revokeOtherSessions')
      .mockRejectedValueOnce(new Error('session store down'));
    try {
      const failed = await post('/auth/two-factor/disable', cookie).send({
        backupCode: backupCodes[0],
        revokeOtherSessions: true,
      });
      expect(failed.status).toBe(500);
      expect(revoke).toHaveBeenCalledTimes(1);
    } finally {
      revoke.mockRestore();
    }
    // The factor is still on, and its event rolled back with it: a first factor still stops at the second.
    expect(await app.get(DataSource).getRepository(TwoFactor).countBy({ userId, enabled: true })).toBe(1);
    const events = app.get(DataSource).getRepository(SecurityEvent);
    expect(await events.countBy({ userId, type: 'two_factor.disabled' })).toBe(0);
    await firstFactor(email);
  });
});

describe.each(testDatabases())('mandatory second factor on $name', (db: TestDatabase) => {
  let database: Awaited<ReturnType<TestDatabase['create']>>;
  let app: INestApplication;

  beforeAll(async () => {
    database = await db.create();
    ({ app } = await createTwoFactorTestApp(database.options, { twoFactor: { required: true } }));
  });

  afterAll(async () => {
    await app?.close();
    await database?.drop();
  });

  it('a user without a second factor reaches only enrolment and sign-out', async () => {
    const post = (path: string, cookie: string) =>
      request(app.getHttpServer()).post(path).set(ORIGIN).set('Cookie', cookie);
    const res = await request(app.getHttpServer())
      .post('/auth/sign-up')
      .set(ORIGIN)
      .send({ email: freshEmail('req'), password: GOOD_PASSWORD })
      .expect(201);
    const cookie = sessionCookie(res);
    expectErrorBody(
      await request(app.getHttpServer()).get('/app/me').set('Cookie', cookie),
      403,
      'TWO_FACTOR_ENROLMENT_REQUIRED',
    );
    expectErrorBody(
      await request(app.getHttpServer()).get('/auth/sessions').set('Cookie', cookie),
      403,
      'TWO_FACTOR_ENROLMENT_REQUIRED',
    );
    const enabled = await post('/auth/two-factor/enable', cookie).expect(200);
    const authenticator = new Authenticator(enabled.body.totpUri);
    await post('/auth/two-factor/confirm', cookie)
      .send({ code: await authenticator.code() })
      .expect(200);
    await request(app.getHttpServer()).get('/app/me').set('Cookie', cookie).expect(200);

    const other = await request(app.getHttpServer())
      .post('/auth/sign-up')
      .set(ORIGIN)
      .send({ email: freshEmail('req'), password: GOOD_PASSWORD })
      .expect(201);
    await post('/auth/sign-out', sessionCookie(other)).expect(200, { success: true });
  });
});
