import 'reflect-metadata';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import {
  AccountDeletionService,
  SecurityEvent,
  SecurityEventsService,
  Session,
  VerificationService,
} from '../../src/index.js';
import { createTestSession } from '../../src/testing/index.js';
import { GOOD_PASSWORD, sessionCookie } from '../apps/password-test-app.js';
import { APP_ORIGIN, randomIpv4, type SecurityTestApp, uniquePhone } from '../apps/security-test-app.js';
import { type TestDatabase, testDatabases } from '../helpers/databases.js';
import { createAccountDataApp, type RichAccount, richAccount, rowsReferencing } from './account-data.fixture.js';

type Failure = 'none' | 'after-verifications' | 'final-event';

const NOTHING = {
  users: 0,
  sessions: 0,
  accounts: 0,
  verifications: 0,
  twoFactors: 0,
  twoFactorProofs: 0,
  passkeys: 0,
  securityEvents: 0,
  signInMethodMarks: 0,
};

/**
 * `DELETE /auth/account` (issue 18, checklist A4): the user and every row that references it go in
 * one transaction, every session (cookie and bearer, cached or not) is refused at once, only a
 * pseudonymous `account.deleted` event stays; a wrong password or code, or a failure halfway,
 * changes nothing.
 */
describe.each(testDatabases())('account deletion on $name', (db: TestDatabase) => {
  let database: Awaited<ReturnType<TestDatabase['create']>>;
  let t: SecurityTestApp;
  let failing: Failure = 'none';

  /** The real service, except that the step after voiding the user's one-time secrets can throw. */
  class FlakyVerificationService extends VerificationService {
    override async revokeBound(...args: Parameters<VerificationService['revokeBound']>): Promise<number> {
      const count = await super.revokeBound(...args);
      if (failing === 'after-verifications') throw new Error('injected: a later step failed');
      return count;
    }
  }

  /** The real service, except that the final pseudonymous event can fail to be written. */
  class FlakyEventsService extends SecurityEventsService {
    override async record(...args: Parameters<SecurityEventsService['record']>): Promise<void> {
      if (failing === 'final-event' && args[0].type === 'account.deleted')
        throw new Error('injected: event write failed');
      return super.record(...args);
    }
  }

  const dataSource = () => t.app.get(DataSource);
  const sessionIdsOf = async (userId: string) =>
    (await dataSource().getRepository(Session).findBy({ userId })).map((s) => s.id);
  const remove = (cookie: string, body: unknown) =>
    t
      .http()
      .delete('/auth/account')
      .set('Origin', APP_ORIGIN)
      .set('Cookie', cookie)
      .send(body as object);
  const cookieWorks = async (cookie: string) =>
    (await t.http().get('/auth/session').set('Cookie', cookie).expect(200)).body.user !== null;
  const bearerWorks = async (token: string) =>
    (await t.http().get('/me').set('Authorization', `Bearer ${token}`)).status === 200;

  beforeAll(async () => {
    database = await db.create();
    t = await createAccountDataApp(database.options, {
      // A number can get a second code at once (a deletion code right after another account's).
      auth: { otp: { resendCooldown: 0 } },
      configure: (builder) =>
        builder
          .overrideProvider(VerificationService)
          .useClass(FlakyVerificationService)
          .overrideProvider(SecurityEventsService)
          .useClass(FlakyEventsService),
    });
  });

  afterAll(async () => {
    await t?.app.close();
    await database?.drop();
  });

  beforeEach(() => {
    failing = 'none';
  });

  async function expectIntact(user: RichAccount, sessionIds: string[]): Promise<void> {
    const rows = await rowsReferencing(dataSource(), user, sessionIds);
    expect(rows).toMatchObject({
      users: 1,
      sessions: 2,
      twoFactors: 1,
      passkeys: 1,
      twoFactorProofs: 1,
      signInMethodMarks: 1,
    });
    expect(rows.accounts).toBe(2);
    expect(rows.verifications).toBeGreaterThanOrEqual(12);
    expect(rows.securityEvents).toBeGreaterThanOrEqual(1);
    expect(await cookieWorks(user.cookie)).toBe(true);
    expect(await bearerWorks(user.bearer)).toBe(true);
  }

  it('deletes the user and every row that references it, and ends every session at once', async () => {
    const user = await richAccount(t);
    const sessionIds = await sessionIdsOf(user.id);
    // Both credentials work (and sit in the session cache) right before.
    expect(await cookieWorks(user.cookie)).toBe(true);
    expect(await bearerWorks(user.bearer)).toBe(true);

    const res = await remove(user.cookie, { password: GOOD_PASSWORD });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ success: true });
    expect(String(res.headers['set-cookie'])).toMatch(/auth_session=;/);

    expect(await rowsReferencing(dataSource(), user, sessionIds)).toEqual(NOTHING);
    expect(await cookieWorks(user.cookie)).toBe(false);
    expect(await bearerWorks(user.bearer)).toBe(false);
    // Signing in again finds no account.
    const again = await t
      .http()
      .post('/auth/sign-in')
      .send({ method: 'email', email: user.email, password: GOOD_PASSWORD });
    expect(again.status).toBe(401);
  });

  it('keeps one pseudonymous account.deleted event: a keyed hash of the id, no address or user agent', async () => {
    const user = await richAccount(t);
    await remove(user.cookie, { password: GOOD_PASSWORD }).expect(200);
    const pseudonym = t.app.get(AccountDeletionService).pseudonym(user.id);
    expect(pseudonym).toMatch(/^deleted:[0-9a-f]{28}$/);
    expect(pseudonym).not.toContain(user.id);
    const events = await dataSource().getRepository(SecurityEvent).findBy({ userId: pseudonym });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'account.deleted', method: 'password', ip: null, userAgent: null });
    const text = JSON.stringify(events[0]);
    for (const value of [user.id, user.email, user.phone]) expect(text).not.toContain(value);
  });

  it('a wrong password is 401 INVALID_CREDENTIALS and deletes nothing', async () => {
    const user = await richAccount(t);
    const sessionIds = await sessionIdsOf(user.id);
    const res = await remove(user.cookie, { password: 'not the password at all' });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('INVALID_CREDENTIALS');
    await expectIntact(user, sessionIds);
  });

  it('shares the password-guess budget of change-password: once it is spent, even the right password is 429', async () => {
    const user = await richAccount(t);
    const sessionIds = await sessionIdsOf(user.id);
    for (let i = 0; i < 10; i++) {
      const res = await t
        .http()
        .post('/auth/change-password')
        .set('Origin', APP_ORIGIN)
        .set('Cookie', user.cookie)
        .send({ currentPassword: `wrong password ${i}`, newPassword: `${GOOD_PASSWORD} new` });
      expect(res.status).toBe(401);
    }
    const res = await remove(user.cookie, { password: GOOD_PASSWORD });
    expect(res.status).toBe(429);
    await expectIntact(user, sessionIds);
  });

  it.each(['after-verifications', 'final-event'] as const)(
    'a failure mid-transaction (%s) leaves everything intact',
    async (failure) => {
      const user = await richAccount(t);
      const sessionIds = await sessionIdsOf(user.id);
      failing = failure;
      const res = await remove(user.cookie, { password: GOOD_PASSWORD });
      expect(res.status).toBeGreaterThanOrEqual(500);
      expect(res.body.error.code).toEqual(expect.any(String));
      expect(JSON.stringify(res.body)).not.toMatch(/injected|at /);
      failing = 'none';
      await expectIntact(user, sessionIds);
      // The same request succeeds once nothing fails: the failure above was the injected one.
      await remove(user.cookie, { password: GOOD_PASSWORD }).expect(200);
    },
  );

  describe('with a code sent to the verified phone', () => {
    async function phoneUser() {
      const { local, e164 } = uniquePhone();
      const ip = randomIpv4();
      await t
        .http()
        .post('/auth/otp/send')
        .set('X-Forwarded-For', ip)
        .send({ method: 'phone', phone: local })
        .expect(200);
      const verify = await t
        .http()
        .post('/auth/otp/verify')
        .set('X-Forwarded-For', ip)
        .send({ method: 'phone', phone: local, otp: t.sms.lastCodeFor(e164) });
      expect(verify.status).toBe(200);
      return { id: verify.body.user.id as string, phone: e164, email: `none-${e164}`, cookie: sessionCookie(verify) };
    }
    const sendCode = (cookie: string) =>
      t.http().post('/auth/account/delete/code').set('Origin', APP_ORIGIN).set('Cookie', cookie);

    it('deletes the account with the account-delete code, not with a sign-in code', async () => {
      const user = await phoneUser();
      const sessionIds = await sessionIdsOf(user.id);
      // A sign-in code for the same number cannot delete the account (codes are bound to their purpose).
      await t
        .http()
        .post('/auth/otp/send')
        .set('X-Forwarded-For', randomIpv4())
        .send({ method: 'phone', phone: user.phone })
        .expect(200);
      const signInCode = t.sms.lastCodeFor(user.phone)!;
      const refused = await remove(user.cookie, { otp: signInCode });
      expect(refused.status).toBe(401);
      expect(refused.body.error.code).toBe('INVALID_CREDENTIALS');
      expect((await rowsReferencing(dataSource(), user, sessionIds)).users).toBe(1);

      const sent = await sendCode(user.cookie);
      expect(sent.status).toBe(200);
      expect(sent.body).toMatchObject({ success: true, maskedPhone: expect.stringContaining('****') });
      const code = t.sms.lastCodeFor(user.phone)!;
      expect(code).not.toBe(signInCode);
      await remove(user.cookie, { otp: code }).expect(200, { success: true });
      expect(await rowsReferencing(dataSource(), user, sessionIds)).toEqual(NOTHING);
      expect(await cookieWorks(user.cookie)).toBe(false);
    });

    it('a wrong code is 401 and deletes nothing; an account without a password cannot use one', async () => {
      const user = await phoneUser();
      await sendCode(user.cookie).expect(200);
      const code = t.sms.lastCodeFor(user.phone)!;
      const wrong = String((Number(code) + 1) % 1_000_000).padStart(code.length, '0');
      const res = await remove(user.cookie, { otp: wrong });
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('INVALID_CREDENTIALS');
      const noPassword = await remove(user.cookie, { password: GOOD_PASSWORD });
      expect(noPassword.status).toBe(401);
      expect(await cookieWorks(user.cookie)).toBe(true);
      await remove(user.cookie, { otp: code }).expect(200);
    });

    it("refuses a code sent for another account that had the same number, and the owner's own code works", async () => {
      const previous = await phoneUser();
      await sendCode(previous.cookie).expect(200);
      const othersCode = t.sms.lastCodeFor(previous.phone)!;
      // The number moves on to another account (the first one took a new number).
      await dataSource().getRepository('users').update({ id: previous.id }, { phone: uniquePhone().e164 });
      const next = await createTestSession(t.app, { phone: previous.phone, phoneVerified: true });
      const user = { id: next.user.id, phone: previous.phone, email: `none-${previous.phone}`, cookie: next.cookie };
      const sessionIds = await sessionIdsOf(user.id);

      const refused = await remove(user.cookie, { otp: othersCode });
      expect(refused.status).toBe(401);
      expect(refused.body.error.code).toBe('INVALID_CREDENTIALS');
      expect((await rowsReferencing(dataSource(), user, sessionIds)).users).toBe(1);
      expect(await cookieWorks(user.cookie)).toBe(true);

      await sendCode(user.cookie).expect(200);
      const own = t.sms.lastCodeFor(user.phone)!;
      expect(own).not.toBe(othersCode);
      await remove(user.cookie, { otp: own }).expect(200, { success: true });
      expect((await rowsReferencing(dataSource(), user, sessionIds)).users).toBe(0);
    });

    it('an account without a verified phone gets 400 PHONE_NOT_VERIFIED and no code', async () => {
      const user = await richAccount(t);
      await dataSource().getRepository('users').update({ id: user.id }, { phoneVerified: false });
      const before = t.sms.messages.length;
      const res = await sendCode(user.cookie);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('PHONE_NOT_VERIFIED');
      expect(t.sms.messages.length).toBe(before);
    });
  });

  describe('edge rules', () => {
    it('refuses another origin (403 INVALID_ORIGIN), no session (401) and bad bodies (400), deleting nothing', async () => {
      const user = await richAccount(t);
      const sessionIds = await sessionIdsOf(user.id);
      const evil = await t
        .http()
        .delete('/auth/account')
        .set('Origin', 'https://evil.example')
        .set('Cookie', user.cookie)
        .send({ password: GOOD_PASSWORD });
      expect(evil.status).toBe(403);
      expect(evil.body.error.code).toBe('INVALID_ORIGIN');
      const evilCode = await t
        .http()
        .post('/auth/account/delete/code')
        .set('Origin', 'https://evil.example')
        .set('Cookie', user.cookie);
      expect(evilCode.status).toBe(403);
      const anonymous = await t
        .http()
        .delete('/auth/account')
        .set('Origin', APP_ORIGIN)
        .send({ password: GOOD_PASSWORD });
      expect(anonymous.status).toBe(401);
      const bodies: unknown[] = [
        {},
        { password: GOOD_PASSWORD, otp: '123456' },
        { password: 42 },
        { password: '' },
        { password: 'x'.repeat(2000) },
        { otp: ['123456'] },
        { password: GOOD_PASSWORD, admin: true },
        [GOOD_PASSWORD],
      ];
      for (const body of bodies) {
        const res = await remove(user.cookie, body);
        expect([res.status, res.body.error?.code]).toEqual([400, 'INVALID_INPUT']);
      }
      const form = await t
        .http()
        .delete('/auth/account')
        .set('Origin', APP_ORIGIN)
        .set('Cookie', user.cookie)
        .type('form')
        .send(`password=${encodeURIComponent(GOOD_PASSWORD)}`);
      expect(form.status).toBe(400);
      await expectIntact(user, sessionIds);
    });

    it('needs a fresh session: an old sign-in gets 403 SESSION_NOT_FRESH', async () => {
      const user = await richAccount(t);
      await dataSource()
        .getRepository(Session)
        .update({ userId: user.id }, { createdAt: new Date(Date.now() - 2 * 24 * 3600 * 1000) });
      // Read the row itself, not the cached copy.
      await t.app.get((await import('../../src/index.js')).SessionService).forgetUser(user.id);
      const res = await remove(user.cookie, { password: GOOD_PASSWORD });
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('SESSION_NOT_FRESH');
      expect((await rowsReferencing(dataSource(), user, [])).users).toBe(1);
    });

    it('counts attempts per account: past account-delete:account the answer is 429', async () => {
      const user = await richAccount(t);
      const statuses: number[] = [];
      for (let i = 0; i < 11; i++)
        statuses.push((await remove(user.cookie, { password: `wrong password ${i}` })).status);
      expect(statuses.slice(0, 10).every((s) => s === 401)).toBe(true);
      expect(statuses[10]).toBe(429);
    });
  });
});
