import 'reflect-metadata';
import { randomInt, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { SignInMethodMarks } from '../../src/accounts/sign-in-method-marks.entity.js';
import { Account, Passkey, Session, User, type VerificationDelivery } from '../../src/index.js';
import { SecurityEvent } from '../../src/security-events/security-event.entity.js';
import { createTestSession, type InMemorySmsProvider } from '../../src/testing/index.js';
import type { Platform } from '../apps/test-app.js';
import {
  createPasswordTestApp,
  expectErrorBody,
  freshEmail,
  GOOD_PASSWORD,
  OTHER_PASSWORD,
  sessionCookie,
} from '../apps/password-test-app.js';
import { type TestDatabase, testDatabases } from '../helpers/databases.js';

const APP_URL = 'http://app.example.test';
const ORIGIN = { Origin: APP_URL };

/** A Saudi mobile number no other test uses: local form and E.164. */
function freshPhone(): { local: string; e164: string } {
  const rest = String(randomInt(0, 10_000_000)).padStart(7, '0');
  return { local: `056${rest}`, e164: `+96656${rest}` };
}

const PLATFORMS: Platform[] = ['express', 'fastify'];
const CASES = testDatabases().flatMap((db) => PLATFORMS.map((platform) => ({ db, platform, name: db.name })));

describe.each(CASES)('account sign-in methods on $name ($platform)', ({ db, platform }) => {
  let database: Awaited<ReturnType<TestDatabase['create']>>;
  let app: INestApplication;
  let sms: InMemorySmsProvider;
  const deliveries: VerificationDelivery[] = [];
  const emailNotices: { previousEmail: string; newEmail: string }[] = [];

  const http = () => request(app.getHttpServer());
  const users = () => app.get(DataSource).getRepository(User);
  const events = (userId: string) =>
    app
      .get(DataSource)
      .getRepository(SecurityEvent)
      .find({ where: { userId }, order: { createdAt: 'ASC' } });

  beforeAll(async () => {
    database = await db.create();
    ({ app, sms } = await createPasswordTestApp({
      database: database.options,
      platform,
      auth: {
        appUrl: APP_URL,
        otp: { resendCooldown: 0 },
        rateLimit: {
          limits: {
            'account-methods:account': { limit: 1000, window: 600 },
            'sign-up:ip': { limit: 10_000, window: 600 },
            'sign-in:ip': { limit: 10_000, window: 600 },
            'otp-send:ip': { limit: 10_000, window: 600 },
            'forgot-password:ip': { limit: 10_000, window: 600 },
          },
        },
        callbacks: {
          onVerifyEmail: (delivery) => void deliveries.push(delivery),
          onForgotPassword: (delivery) => void deliveries.push(delivery),
          onEmailChanged: ({ previousEmail, newEmail }) => void emailNotices.push({ previousEmail, newEmail }),
        },
      },
    }));
  });

  afterAll(async () => {
    await app?.close();
    await database?.drop();
  });

  /** An email + password account, signed in (fresh). */
  async function emailUser(): Promise<{ cookie: string; userId: string; email: string }> {
    const email = freshEmail('methods');
    const res = await http().post('/auth/sign-up').set(ORIGIN).send({ email, password: GOOD_PASSWORD }).expect(201);
    return { cookie: sessionCookie(res), userId: res.body.user.id, email };
  }

  /** A phone-only account (as an OTP sign-in leaves it), signed in (fresh). */
  async function phoneUser(): Promise<{ cookie: string; userId: string; phone: string }> {
    const phone = freshPhone().e164;
    const { cookie, user } = await createTestSession(app, { phone, phoneVerified: true });
    return { cookie, userId: user.id, phone };
  }

  const methods = (cookie: string) => http().get('/auth/account/methods').set('Cookie', cookie);

  async function addPhone(cookie: string, phone = freshPhone()): Promise<string> {
    await http()
      .post('/auth/account/phone/send')
      .set(ORIGIN)
      .set('Cookie', cookie)
      .send({ phone: phone.local })
      .expect(200);
    const otp = sms.lastCodeFor(phone.e164)!;
    await http()
      .post('/auth/account/phone')
      .set(ORIGIN)
      .set('Cookie', cookie)
      .send({ phone: phone.local, otp })
      .expect(200);
    return phone.e164;
  }

  it('lists the methods of the signed-in account; 401 without a session', async () => {
    expectErrorBody(await http().get('/auth/account/methods'), 401, 'UNAUTHENTICATED');
    const { cookie, email } = await emailUser();
    const res = await methods(cookie).expect(200);
    expect(res.body).toStrictEqual({
      phone: null,
      email: { value: email, verified: false },
      password: true,
      providers: [],
      passkeys: 0,
      unrecognised: [],
    });
  });

  it('adds a phone with a change-phone code: a wrong code or a sign-in code is refused, the right one attaches it verified', async () => {
    const { cookie, userId } = await emailUser();
    const phone = freshPhone();
    const sent = await http()
      .post('/auth/account/phone/send')
      .set(ORIGIN)
      .set('Cookie', cookie)
      .send({ phone: phone.local })
      .expect(200);
    expect(sent.body).toStrictEqual({ success: true, maskedPhone: expect.stringMatching(/^\+9665\*+\d{4}$/) });
    const code = sms.lastCodeFor(phone.e164)!;
    expect(code).toMatch(/^\d{6}$/);
    const wrong = code === '000000' ? '111111' : '000000';
    const confirm = (otp: string) =>
      http().post('/auth/account/phone').set(ORIGIN).set('Cookie', cookie).send({ phone: phone.local, otp });
    expectErrorBody(await confirm(wrong), 400, 'OTP_INVALID');

    // A sign-in code for the same number (another purpose) does not attach it.
    await http().post('/auth/otp/send').set(ORIGIN).send({ method: 'phone', phone: phone.local }).expect(200);
    const signInCode = sms.lastCodeFor(phone.e164)!;
    expectErrorBody(await confirm(signInCode), 400, 'OTP_INVALID');
    expect((await users().findOneByOrFail({ id: userId })).phone).toBeNull();

    await confirm(code).expect(200);
    const user = await users().findOneByOrFail({ id: userId });
    expect({ phone: user.phone, phoneVerified: user.phoneVerified }).toEqual({
      phone: phone.e164,
      phoneVerified: true,
    });
    expect((await methods(cookie).expect(200)).body.phone).toEqual({ value: phone.e164, verified: true });
    expect((await events(userId)).map((e) => [e.type, e.method])).toContainEqual(['method.added', 'phone']);
    // Single use.
    expectErrorBody(await confirm(code), 400, 'OTP_INVALID');
  });

  it('changes the phone and tells the previous number by SMS', async () => {
    const { cookie, userId, phone: previous } = await phoneUser();
    sms.clear();
    const next = await addPhone(cookie);
    expect((await users().findOneByOrFail({ id: userId })).phone).toBe(next);
    const notice = sms.messages.find((m) => m.to === previous);
    expect(notice?.message).toMatch(/phone number|رقم الجوال/);
    expect(notice?.code).toBe('');
  });

  it("sends nothing to another account's number, with the same answer, and its code cannot be guessed in", async () => {
    const { cookie, userId } = await emailUser();
    const taken = await phoneUser();
    const local = `0${taken.phone.slice(4)}`;
    sms.clear();
    const res = await http().post('/auth/account/phone/send').set(ORIGIN).set('Cookie', cookie).send({ phone: local });
    expect(res.status).toBe(200);
    expect(res.body).toStrictEqual({ success: true, maskedPhone: expect.any(String) });
    expect(sms.messages).toEqual([]);
    expectErrorBody(
      await http().post('/auth/account/phone').set(ORIGIN).set('Cookie', cookie).send({ phone: local, otp: '123456' }),
      400,
      'OTP_INVALID',
    );
    expect((await users().findOneByOrFail({ id: userId })).phone).toBeNull();
  });

  it('binds the change-phone code to the account: another account cannot redeem it, even for the same number', async () => {
    const a = await emailUser();
    const b = await emailUser();
    const phone = freshPhone();
    const send = (cookie: string) =>
      http()
        .post('/auth/account/phone/send')
        .set(ORIGIN)
        .set('Cookie', cookie)
        .send({ phone: phone.local })
        .expect(200);
    const confirm = (cookie: string, otp: string) =>
      http().post('/auth/account/phone').set(ORIGIN).set('Cookie', cookie).send({ phone: phone.local, otp });

    await send(a.cookie);
    const codeForA = sms.lastCodeFor(phone.e164)!;
    expect(codeForA).toMatch(/^\d{6}$/);
    // B never asked: A's code does not attach the number to B.
    expectErrorBody(await confirm(b.cookie, codeForA), 400, 'OTP_INVALID');
    // B asks for the same number: B's code is B's own, A's still does not work for B, and B's
    // request does not void A's code.
    await send(b.cookie);
    const codeForB = sms.lastCodeFor(phone.e164)!;
    if (codeForB !== codeForA) expectErrorBody(await confirm(b.cookie, codeForA), 400, 'OTP_INVALID');
    expect((await users().findOneByOrFail({ id: b.userId })).phone).toBeNull();
    if (codeForB !== codeForA) expectErrorBody(await confirm(a.cookie, codeForB), 400, 'OTP_INVALID');

    await confirm(a.cookie, codeForA).expect(200);
    expect((await users().findOneByOrFail({ id: a.userId })).phone).toBe(phone.e164);
    // The number is A's now: B's own code no longer attaches it.
    expectErrorBody(await confirm(b.cookie, codeForB), 400, 'OTP_INVALID');
    expect((await users().findOneByOrFail({ id: b.userId })).phone).toBeNull();
  });

  it('changes the email with a code bound to the account and the new address; the previous address is told', async () => {
    const { cookie, userId, email: previous } = await emailUser();
    const next = freshEmail('next');
    await http().post('/auth/account/email/send').set(ORIGIN).set('Cookie', cookie).send({ email: next }).expect(200);
    const delivery = deliveries.filter((d) => d.identifier === next).at(-1)!;
    expect(delivery.code).toMatch(/^\d{6}$/);
    const confirm = (otp: string, email = next) =>
      http().post('/auth/account/email').set(ORIGIN).set('Cookie', cookie).send({ email, otp });
    expectErrorBody(await confirm(delivery.code === '000000' ? '111111' : '000000'), 400, 'INVALID_TOKEN');

    // An email verification code (another purpose) does not change the address.
    await http().post('/auth/verify-email/send').set(ORIGIN).set('Cookie', cookie).send({}).expect(200);
    const verifyCode = deliveries.filter((d) => d.identifier === previous).at(-1)!.code!;
    expectErrorBody(await confirm(verifyCode, previous), 400, 'INVALID_TOKEN');
    // Another account cannot redeem it either.
    const other = await emailUser();
    expectErrorBody(
      await http()
        .post('/auth/account/email')
        .set(ORIGIN)
        .set('Cookie', other.cookie)
        .send({ email: next, otp: delivery.code }),
      400,
      'INVALID_TOKEN',
    );
    expect((await users().findOneByOrFail({ id: userId })).email).toBe(previous);

    await confirm(delivery.code!).expect(200);
    const user = await users().findOneByOrFail({ id: userId });
    expect({ email: user.email, emailVerified: user.emailVerified }).toEqual({ email: next, emailVerified: true });
    expect(emailNotices).toContainEqual({ previousEmail: previous, newEmail: next });
    // The password now signs in with the new address only.
    await http()
      .post('/auth/sign-in')
      .set(ORIGIN)
      .send({ method: 'email', email: next, password: GOOD_PASSWORD })
      .expect(200);
  });

  it("sends nothing to another account's address, with the same answer", async () => {
    const { cookie } = await emailUser();
    const taken = await emailUser();
    const before = deliveries.length;
    const res = await http()
      .post('/auth/account/email/send')
      .set(ORIGIN)
      .set('Cookie', cookie)
      .send({ email: taken.email });
    expect({ status: res.status, body: res.body }).toStrictEqual({ status: 200, body: { success: true } });
    expect(deliveries.length).toBe(before);
  });

  it('sets a password when there is none, refuses a second one, and removes it only with the password', async () => {
    const { cookie, userId } = await phoneUser();
    const set = (newPassword: string) =>
      http().post('/auth/account/password').set(ORIGIN).set('Cookie', cookie).send({ newPassword });
    expectErrorBody(await set('password123456789'), 400, 'PASSWORD_TOO_COMMON');
    await set(GOOD_PASSWORD).expect(200);
    expectErrorBody(await set(OTHER_PASSWORD), 409, 'PASSWORD_ALREADY_SET');
    expect((await methods(cookie).expect(200)).body.password).toBe(true);

    const remove = (currentPassword: string) =>
      http().delete('/auth/account/password').set(ORIGIN).set('Cookie', cookie).send({ currentPassword });
    expectErrorBody(await remove(OTHER_PASSWORD), 401, 'INVALID_CREDENTIALS');
    await remove(GOOD_PASSWORD).expect(200);
    expect((await methods(cookie).expect(200)).body.password).toBe(false);
    expect((await events(userId)).map((e) => e.type)).toEqual(
      expect.arrayContaining(['password.set', 'password.removed']),
    );
  });

  it('never removes the last way in: 409 LAST_SIGN_IN_METHOD and nothing changed', async () => {
    const { cookie, userId } = await emailUser();
    expectErrorBody(
      await http()
        .delete('/auth/account/password')
        .set(ORIGIN)
        .set('Cookie', cookie)
        .send({ currentPassword: GOOD_PASSWORD }),
      409,
      'LAST_SIGN_IN_METHOD',
    );
    expect((await methods(cookie).expect(200)).body.password).toBe(true);

    const phoneOnly = await phoneUser();
    expectErrorBody(
      await http().delete('/auth/account/phone').set(ORIGIN).set('Cookie', phoneOnly.cookie),
      409,
      'LAST_SIGN_IN_METHOD',
    );
    expect((await users().findOneByOrFail({ id: phoneOnly.userId })).phone).toBe(phoneOnly.phone);
    expect((await events(userId)).filter((e) => e.type.endsWith('.removed'))).toEqual([]);
  });

  /** A stored passkey row (what a verified registration writes). */
  async function storedPasskey(userId: string): Promise<string> {
    const id = randomUUID();
    await app
      .get(DataSource)
      .getRepository(Passkey)
      .insert({
        id,
        userId,
        credentialId: `cred-${randomUUID()}`,
        publicKey: 'pQECAyYgASFYIA',
        counter: 0,
        transports: null,
        name: 'Laptop',
        deviceType: 'singleDevice',
        backedUp: false,
        lastUsedAt: null,
      });
    return id;
  }

  /** How many ways in the account has, read from the tables. */
  async function waysIn(userId: string): Promise<number> {
    const user = await users().findOneByOrFail({ id: userId });
    const passkeys = await app.get(DataSource).getRepository(Passkey).countBy({ userId });
    const password = await app.get(DataSource).getRepository(Account).countBy({ userId, providerId: 'credential' });
    return (user.phone && user.phoneVerified ? 1 : 0) + passkeys + (user.email ? password : 0);
  }

  it('keeps one way in when the last two are removed in parallel', async () => {
    for (let round = 0; round < 5; round++) {
      // A phone and a passkey: two quick removals whose transactions overlap.
      const { cookie, userId } = await phoneUser();
      const passkey = await storedPasskey(userId);
      const [phone, key] = await Promise.all([
        http().delete('/auth/account/phone').set(ORIGIN).set('Cookie', cookie),
        http().delete(`/auth/passkeys/${passkey}`).set(ORIGIN).set('Cookie', cookie),
      ]);
      expect({ round, statuses: [phone.status, key.status].sort() }).toEqual({ round, statuses: [200, 409] });
      expect({ round, ways: await waysIn(userId) }).toEqual({ round, ways: 1 });

      // The phone and the password.
      const other = await emailUser();
      await addPhone(other.cookie);
      const both = await Promise.all([
        http().delete('/auth/account/phone').set(ORIGIN).set('Cookie', other.cookie),
        http()
          .delete('/auth/account/password')
          .set(ORIGIN)
          .set('Cookie', other.cookie)
          .send({ currentPassword: GOOD_PASSWORD }),
      ]);
      expect({ round, statuses: both.map((r) => r.status).sort() }).toEqual({ round, statuses: [200, 409] });
      expect({ round, ways: await waysIn(other.userId) }).toEqual({ round, ways: 1 });
    }
  });

  it('refuses to delete the last passkey of an account that has nothing else', async () => {
    const { cookie, user } = await createTestSession(app, {});
    const first = await storedPasskey(user.id);
    const last = await storedPasskey(user.id);
    await http().delete(`/auth/passkeys/${first}`).set(ORIGIN).set('Cookie', cookie).expect(200);
    expectErrorBody(
      await http().delete(`/auth/passkeys/${last}`).set(ORIGIN).set('Cookie', cookie),
      409,
      'LAST_SIGN_IN_METHOD',
    );
    expect(await app.get(DataSource).getRepository(Passkey).countBy({ userId: user.id })).toBe(1);
  });

  it('flags the methods added since the email was last proven after an email-proven reset, until removed', async () => {
    // Someone signed up with the owner's address (never proven) and added their own phone.
    const { cookie, userId, email } = await emailUser();
    const phone = await addPhone(cookie);
    await http().post('/auth/forgot-password').set(ORIGIN).send({ method: 'email', email }).expect(200);
    const code = deliveries.filter((d) => d.identifier === email).at(-1)!.code!;
    const reset = await http()
      .post('/auth/reset-password')
      .set(ORIGIN)
      .send({ method: 'email', email, otp: code, newPassword: OTHER_PASSWORD })
      .expect(200);
    const flagged = { type: 'phone', id: null, label: expect.stringMatching(/\*{4}/), addedAt: expect.any(String) };
    expect(reset.body).toStrictEqual({ success: true, unrecognised: [flagged] });
    expect(reset.body.unrecognised[0].label).not.toContain(phone.slice(-8, -4));

    // The owner signs in with the new password and sees the flag on the next list.
    const signIn = await http()
      .post('/auth/sign-in')
      .set(ORIGIN)
      .send({ method: 'email', email, password: OTHER_PASSWORD })
      .expect(200);
    const owner = sessionCookie(signIn);
    expect((await methods(owner).expect(200)).body.unrecognised).toStrictEqual([flagged]);
    await http().delete('/auth/account/phone').set(ORIGIN).set('Cookie', owner).expect(200);
    expect((await methods(owner).expect(200)).body.unrecognised).toEqual([]);
    expect((await users().findOneByOrFail({ id: userId })).phone).toBeNull();
  });

  it('does not flag a method added before the email was last proven', async () => {
    const { cookie, userId, email } = await emailUser();
    await addPhone(cookie);
    // The phone was attached an hour ago; the owner proved the address half an hour ago.
    await app
      .get(DataSource)
      .getRepository(SignInMethodMarks)
      .update(
        { userId },
        { phoneAddedAt: new Date(Date.now() - 3_600_000), emailProvenAt: new Date(Date.now() - 1_800_000) },
      );
    await http().post('/auth/forgot-password').set(ORIGIN).send({ method: 'email', email }).expect(200);
    const code = deliveries.filter((d) => d.identifier === email).at(-1)!.code!;
    const reset = await http()
      .post('/auth/reset-password')
      .set(ORIGIN)
      .send({ method: 'email', email, otp: code, newPassword: OTHER_PASSWORD })
      .expect(200);
    expect(reset.body).toStrictEqual({ success: true });
  });

  /** An email-proven reset of `email` to `newPassword`; returns its answer. */
  async function resetByEmail(email: string, newPassword: string) {
    await http().post('/auth/forgot-password').set(ORIGIN).send({ method: 'email', email }).expect(200);
    const code = deliveries.filter((d) => d.identifier === email).at(-1)!.code!;
    return http()
      .post('/auth/reset-password')
      .set(ORIGIN)
      .send({ method: 'email', email, otp: code, newPassword })
      .expect(200);
  }

  it('keeps the flagged methods when the owner acknowledges them with the password; a session of the flagged phone cannot', async () => {
    const { cookie, userId, email } = await emailUser();
    const phone = await addPhone(cookie);
    expect((await resetByEmail(email, OTHER_PASSWORD)).body.unrecognised).toHaveLength(1);

    // Whoever added the phone signs in with it: a fresh session, but not the password.
    await http().post('/auth/otp/send').set(ORIGIN).send({ method: 'phone', phone }).expect(200);
    const phoneSignIn = await http()
      .post('/auth/otp/verify')
      .set(ORIGIN)
      .send({ method: 'phone', phone, otp: sms.lastCodeFor(phone) })
      .expect(200);
    const intruder = sessionCookie(phoneSignIn);
    const acknowledge = (sessionCookieValue: string, body: object) =>
      http().post('/auth/account/methods/acknowledge').set(ORIGIN).set('Cookie', sessionCookieValue).send(body);
    expectErrorBody(await acknowledge(intruder, { currentPassword: GOOD_PASSWORD }), 401, 'INVALID_CREDENTIALS');
    expectErrorBody(await acknowledge(intruder, {}), 400, 'INVALID_INPUT');
    expect((await methods(intruder).expect(200)).body.unrecognised).toHaveLength(1);

    const owner = sessionCookie(
      await http()
        .post('/auth/sign-in')
        .set(ORIGIN)
        .send({ method: 'email', email, password: OTHER_PASSWORD })
        .expect(200),
    );
    const kept = await acknowledge(owner, { currentPassword: OTHER_PASSWORD }).expect(200);
    expect(kept.body).toStrictEqual({ success: true });
    const after = (await methods(owner).expect(200)).body;
    expect(after.unrecognised).toEqual([]);
    expect(after.phone).toEqual({ value: phone, verified: true });
    // Idempotent, and the kept phone is not flagged again by the next email-proven reset.
    await acknowledge(owner, { currentPassword: OTHER_PASSWORD }).expect(200);
    expect((await resetByEmail(email, GOOD_PASSWORD)).body).toStrictEqual({ success: true });
    expect((await users().findOneByOrFail({ id: userId })).phone).toBe(phone);
  });

  describe('edge rules of every change route', () => {
    const routes: [string, 'post' | 'delete', string, () => Record<string, unknown> | undefined][] = [
      ['POST /auth/account/phone/send', 'post', '/auth/account/phone/send', () => ({ phone: freshPhone().local })],
      ['POST /auth/account/phone', 'post', '/auth/account/phone', () => ({ phone: freshPhone().local, otp: '123456' })],
      ['DELETE /auth/account/phone', 'delete', '/auth/account/phone', () => undefined],
      ['POST /auth/account/email/send', 'post', '/auth/account/email/send', () => ({ email: freshEmail('x') })],
      ['POST /auth/account/email', 'post', '/auth/account/email', () => ({ email: freshEmail('x'), otp: '123456' })],
      ['POST /auth/account/password', 'post', '/auth/account/password', () => ({ newPassword: OTHER_PASSWORD })],
      ['DELETE /auth/account/password', 'delete', '/auth/account/password', () => ({ currentPassword: GOOD_PASSWORD })],
      ['DELETE /auth/account/providers/:id', 'delete', `/auth/account/providers/${randomUUID()}`, () => undefined],
      [
        'POST /auth/account/methods/acknowledge',
        'post',
        '/auth/account/methods/acknowledge',
        () => ({ currentPassword: GOOD_PASSWORD }),
      ],
    ];

    const send = (method: 'post' | 'delete', path: string, body?: Record<string, unknown>) => {
      const req = http()[method](path);
      return body === undefined ? req : req.send(body);
    };

    it.each(routes)(
      '%s: 401 without a session, 403 on a stale session or a foreign/missing Origin',
      async (_n, method, path, body) => {
        expectErrorBody(await send(method, path, body()).set(ORIGIN), 401, 'UNAUTHENTICATED');
        const { cookie, userId } = await emailUser();
        expectErrorBody(await send(method, path, body()).set('Cookie', cookie), 403, 'INVALID_ORIGIN');
        expectErrorBody(
          await send(method, path, body()).set('Cookie', cookie).set('Origin', 'https://evil.example'),
          403,
          'INVALID_ORIGIN',
        );
        await app
          .get(DataSource)
          .getRepository(Session)
          .update({ userId }, { createdAt: new Date(Date.now() - 2 * 86_400_000) });
        expectErrorBody(await send(method, path, body()).set(ORIGIN).set('Cookie', cookie), 403, 'SESSION_NOT_FRESH');
      },
    );

    it('refuses malformed bodies with 400 and changes nothing', async () => {
      const { cookie, userId } = await emailUser();
      const snapshot = async () =>
        JSON.stringify({
          user: await users().findOneByOrFail({ id: userId }),
          accounts: await app.get(DataSource).getRepository(Account).findBy({ userId }),
        });
      const before = await snapshot();
      const bad: [string, string, unknown][] = [
        ['post', '/auth/account/phone/send', { phone: 5 }],
        ['post', '/auth/account/phone/send', { phone: '0551234567', extra: true }],
        ['post', '/auth/account/phone/send', { phone: 'x'.repeat(500) }],
        ['post', '/auth/account/phone', { phone: '0551234567' }],
        ['post', '/auth/account/phone', { phone: '0551234567', otp: ['123456'] }],
        ['post', '/auth/account/email/send', { email: null }],
        ['post', '/auth/account/email', { email: 'a@b.example', otp: '１２３４５６' }],
        ['post', '/auth/account/password', {}],
        ['post', '/auth/account/password', { newPassword: 'x'.repeat(5000) }],
        ['delete', '/auth/account/password', { currentPassword: 'y'.repeat(5000) }],
        ['delete', '/auth/account/password', []],
        ['post', '/auth/account/methods/acknowledge', {}],
        ['post', '/auth/account/methods/acknowledge', { currentPassword: GOOD_PASSWORD, all: true }],
        ['post', '/auth/account/methods/acknowledge', { currentPassword: 7 }],
      ];
      for (const [method, path, body] of bad) {
        const res = await http()
          [method as 'post' | 'delete'](path)
          .set(ORIGIN)
          .set('Cookie', cookie)
          .send(body as object);
        expect({ path, body, status: res.status }).toEqual({ path, body, status: 400 });
        expect(res.body.error.code).toMatch(/^(INVALID_INPUT|PASSWORD_TOO_LONG)$/);
      }
      const text = await http()
        .post('/auth/account/password')
        .set(ORIGIN)
        .set('Cookie', cookie)
        .set('Content-Type', 'text/plain')
        .send('newPassword=x');
      expectErrorBody(text, 400, 'INVALID_INPUT');
      expectErrorBody(
        await http().delete('/auth/account/providers/not-a-uuid').set(ORIGIN).set('Cookie', cookie),
        404,
        'SIGN_IN_METHOD_NOT_FOUND',
      );
      expect(await snapshot()).toBe(before);
    });
  });
});
