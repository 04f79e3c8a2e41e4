import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { type INestApplication, Logger } from '@nestjs/common';
import request from 'supertest';
import { ArrafAuthException } from '../../src/errors/arraf-auth.exception.js';
import type { ArrafAuthHooks } from '../../src/options/arraf-auth-options.interface.js';
import { OtpService } from '../../src/otp/otp.service.js';
import type { InMemorySmsProvider } from '../../src/testing/index.js';
import { createOtpTestApp } from '../apps/otp-test-app.js';
import { TEST_SECRET } from '../apps/test-app.js';
import type { Platform } from '../apps/test-app.js';
import { type TestDatabase, testDatabases } from '../helpers/databases.js';
import {
  arabicDigits,
  expectedHash,
  expectError,
  expectTooMany,
  fullwidthDigits,
  otpClient,
  saudiMobile,
  sessionCookie,
  storedFor,
  tables,
  uniqueIp,
  wrongCode,
} from './otp.helpers.js';

type Database = Awaited<ReturnType<TestDatabase['create']>>;
const DAY = 24 * 3600;

/** Hooks that record their calls; `hookPlan` makes one of them throw or act. */
const hookCalls: { name: string; context: Record<string, unknown> }[] = [];
const hookPlan: { throwIn?: keyof ArrafAuthHooks; beforeSignUp?: (draft: Record<string, unknown>) => Promise<void> } =
  {};
function recordingHooks(): ArrafAuthHooks {
  const hook =
    (name: keyof ArrafAuthHooks) =>
    async (context: Record<string, unknown>): Promise<void> => {
      hookCalls.push({ name, context });
      if (name === 'beforeSignUp' && hookPlan.beforeSignUp)
        await hookPlan.beforeSignUp(context.user as Record<string, unknown>);
      if (hookPlan.throwIn === name) throw new Error(`${name} refused`);
    };
  return {
    beforeSignUp: hook('beforeSignUp'),
    afterSignUp: hook('afterSignUp'),
    beforeSignIn: hook('beforeSignIn'),
    afterSignIn: hook('afterSignIn'),
    afterOtpVerified: hook('afterOtpVerified'),
  };
}

const PLATFORMS: Platform[] = ['express', 'fastify'];
/** Every configured database, on each platform. */
const CASES = testDatabases().flatMap((db) => PLATFORMS.map((platform) => ({ db, platform, name: db.name })));

describe.each(CASES)('phone + OTP sign-in on $name ($platform)', ({ db, platform }: (typeof CASES)[number]) => {
  let database: Database;

  beforeAll(async () => {
    database = await db.create();
  });

  afterAll(async () => {
    await database?.drop();
  });

  describe('with the default OTP settings and allowedCountries ["SA"]', () => {
    let app: INestApplication;
    let sms: InMemorySmsProvider;

    beforeAll(async () => {
      ({ app, sms } = await createOtpTestApp({
        database: database.options,
        platform,
        auth: { phone: { allowedCountries: ['SA'] } },
      }));
    });

    afterAll(async () => {
      await app?.close();
    });

    afterEach(() => {
      jest.restoreAllMocks();
    });

    it('answers a send with the masked number and texts a 6-digit code to the E.164 number', async () => {
      const res = await otpClient(app).send('055 123-4567');
      expect({ status: res.status, body: res.body }).toStrictEqual({
        status: 200,
        body: { success: true, maskedPhone: '+9665****4567', channel: 'sms' },
      });
      const sent = sms.messages.filter((m) => m.to === '+966551234567');
      expect(sent).toHaveLength(1);
      expect(sent[0].code).toMatch(/^[0-9]{6}$/);
      expect(JSON.stringify(res.body)).not.toContain(sent[0].code);
    });

    it('accepts the number typed with Arabic-Indic digits', async () => {
      const phone = saudiMobile();
      const res = await otpClient(app).send(arabicDigits(phone.local));
      expect(res.status).toBe(200);
      expect(sms.lastCodeFor(phone.e164)).toMatch(/^[0-9]{6}$/);
    });

    it('stores only an HMAC of purpose, number and code, never the code', async () => {
      const phone = saudiMobile();
      const before = Date.now();
      expect((await otpClient(app).send(phone.local)).status).toBe(200);
      const code = sms.lastCodeFor(phone.e164)!;
      const { codes } = await storedFor(app, phone.e164);
      expect(codes).toHaveLength(1);
      const row = codes[0];
      expect(row).toMatchObject({ identifier: phone.e164, type: 'otp:sign-in', attempts: 0 });
      expect(row.valueHash).toBe(expectedHash(TEST_SECRET, 'sign-in', phone.e164, code));
      for (const value of Object.values(row)) expect(String(value)).not.toBe(code);
      expect(row.valueHash).not.toContain(code);
      const lifetime = (row.expiresAt.getTime() - before) / 1000;
      expect(lifetime).toBeGreaterThan(295);
      expect(lifetime).toBeLessThanOrEqual(301);
    });

    it('writes the SMS in Arabic by default and in English for Accept-Language: en, naming the app and the lifetime', async () => {
      const arabic = saudiMobile();
      const english = saudiMobile();
      await otpClient(app).send(arabic.local, { 'Accept-Language': 'ar-SA,ar;q=0.9' });
      await otpClient(app).send(english.local, { 'Accept-Language': 'en-US,en;q=0.8' });
      const ar = sms.messages.find((m) => m.to === arabic.e164)!;
      const en = sms.messages.find((m) => m.to === english.e164)!;
      expect(ar.message).toMatch(/[\u0600-\u06FF]/);
      expect(ar.message).toContain(ar.code);
      expect(ar.message).toContain('Arraf');
      expect(en.message).toBe(`Your Arraf verification code is ${en.code}. It expires in 5 minutes. Do not share it.`);
    });

    it('refuses a resend inside resendCooldown with 429 RATE_LIMITED and Retry-After, without calling the SMS provider', async () => {
      const phone = saudiMobile();
      const client = otpClient(app);
      expect((await client.send(phone.local)).status).toBe(200);
      const send = jest.spyOn(sms, 'send');
      const res = await client.send(phone.local);
      expectTooMany(res, 'RATE_LIMITED', 60);
      expect(send).not.toHaveBeenCalled();
      expect((await storedFor(app, phone.e164)).codes).toHaveLength(1);
      // The cooldown belongs to the client, so a stranger's send never holds the owner's up: another
      // address gets its code at once (the per-number hourly cap bounds them all together).
      expect((await otpClient(app).send(phone.e164)).status).toBe(200);
      expect(send).toHaveBeenCalledTimes(1);
      expect((await storedFor(app, phone.e164)).codes).toHaveLength(1);
    });

    it('refuses a number outside allowedCountries with 400 PHONE_NOT_ALLOWED before any SMS', async () => {
      const send = jest.spyOn(sms, 'send');
      expectError(await otpClient(app).send('+971 50 123 4567'), 400, 'PHONE_NOT_ALLOWED');
      expect(send).not.toHaveBeenCalled();
      expect((await storedFor(app, '+971501234567')).codes).toHaveLength(0);
    });

    it('refuses a landline with 400 PHONE_NOT_MOBILE and a string that is not a number with 400 INVALID_PHONE, sending nothing', async () => {
      const send = jest.spyOn(sms, 'send');
      expectError(await otpClient(app).send('011 234 5678'), 400, 'PHONE_NOT_MOBILE');
      expectError(await otpClient(app).send('not a number'), 400, 'INVALID_PHONE');
      expect(send).not.toHaveBeenCalled();
    });

    it('counts at most maxAttempts of 50 parallel wrong codes and refuses the right code afterwards', async () => {
      const phone = saudiMobile();
      const owner = otpClient(app);
      expect((await owner.send(phone.local)).status).toBe(200);
      const code = sms.lastCodeFor(phone.e164)!;
      const responses = await Promise.all(
        Array.from({ length: 50 }, (_, i) => otpClient(app).verify(phone.local, wrongCode(code, i + 1))),
      );
      const statuses = responses.map((r) => `${r.status} ${r.body.error?.code}`);
      // 10 guesses pass the guess bounds (delayAfterFailures 10, then one per delay: 11); the code
      // compares 5 of them. Clients that did not ask for the code are never told it is used up:
      // they hear OTP_INVALID. The rest wait out the progressive delay (429 with Retry-After).
      expect(statuses.filter((s) => s === '400 OTP_INVALID')).toHaveLength(11);
      expect(statuses.filter((s) => s === '429 OTP_TOO_MANY_ATTEMPTS')).toHaveLength(39);
      for (const res of responses.filter((r) => r.status === 429))
        expect(res.headers['retry-after']).toMatch(/^[1-9][0-9]*$/);

      const { codes } = await storedFor(app, phone.e164);
      expect(codes.map((c) => c.attempts)).toStrictEqual([5]);
      const right = await owner.verify(phone.local, code);
      expectTooMany(right, 'OTP_TOO_MANY_ATTEMPTS', 60);
      expect(right.headers['set-cookie']).toBeUndefined();
      const after = await storedFor(app, phone.e164);
      expect({ attempts: after.codes.map((c) => c.attempts), users: after.users.length }).toStrictEqual({
        attempts: [5],
        users: 0,
      });
    });

    it('lets exactly one of 20 parallel verifications with the right code sign in: one session, one user', async () => {
      const phone = saudiMobile();
      expect((await otpClient(app).send(phone.local)).status).toBe(200);
      const code = sms.lastCodeFor(phone.e164)!;
      const responses = await Promise.all(Array.from({ length: 20 }, () => otpClient(app).verify(phone.local, code)));
      const ok = responses.filter((r) => r.status === 200);
      expect(ok).toHaveLength(1);
      for (const res of responses.filter((r) => r.status !== 200)) {
        expect(['400 OTP_INVALID', '429 OTP_TOO_MANY_ATTEMPTS']).toContain(`${res.status} ${res.body.error?.code}`);
        expect(res.headers['set-cookie']).toBeUndefined();
      }
      const stored = await storedFor(app, phone.e164);
      expect({
        users: stored.users.length,
        sessions: stored.sessions.length,
        codes: stored.codes.length,
      }).toStrictEqual({
        users: 1,
        sessions: 1,
        codes: 0,
      });
      expect(stored.sessions[0].id).toBe(ok[0].body.session.id);
    });

    it('counts at most maxAttempts of 50 wrong guesses started in the same tick through OtpService', async () => {
      const phone = saudiMobile();
      await otpClient(app).send(phone.local);
      const code = sms.lastCodeFor(phone.e164)!;
      const otp = app.get(OtpService);
      const results = await Promise.allSettled(
        Array.from({ length: 50 }, (_, i) => otp.verify(phone.e164, 'sign-in', wrongCode(code, i + 1))),
      );
      const codes = results.map((r) => (r.status === 'rejected' ? (r.reason as ArrafAuthException).code : 'signed in'));
      // Without an `ip` every caller is one client: maxFailuresPerClient (10) guesses pass, 5 of them
      // are compared; this client did not ask for the code, so the used-up code reads OTP_INVALID.
      expect(codes.filter((c) => c === 'OTP_INVALID')).toHaveLength(10);
      expect(codes.filter((c) => c === 'OTP_TOO_MANY_ATTEMPTS')).toHaveLength(40);
      expect((await storedFor(app, phone.e164)).codes.map((c) => c.attempts)).toStrictEqual([5]);
      await expect(otp.verify(phone.e164, 'sign-in', code)).rejects.toMatchObject({ code: 'OTP_TOO_MANY_ATTEMPTS' });
    });

    it('consumes a code exactly once when 20 OtpService.verify calls with it start in the same tick', async () => {
      const phone = saudiMobile();
      await otpClient(app).send(phone.local);
      const code = sms.lastCodeFor(phone.e164)!;
      const otp = app.get(OtpService);
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, () => otp.verify(phone.e164, 'sign-in', code)),
      );
      expect(results.filter((r) => r.status === 'fulfilled').map((r) => r.value)).toStrictEqual([phone.e164]);
      for (const r of results)
        if (r.status === 'rejected') expect(['OTP_INVALID', 'OTP_TOO_MANY_ATTEMPTS']).toContain(r.reason.code);
      expect((await storedFor(app, phone.e164)).codes).toHaveLength(0);
    });

    it('refuses an expired code with 400 OTP_EXPIRED to the client that asked for it, and deletes it', async () => {
      const phone = saudiMobile();
      const client = otpClient(app);
      expect((await client.send(phone.local)).status).toBe(200);
      const code = sms.lastCodeFor(phone.e164)!;
      await tables(app).verifications.update({ identifier: phone.e164 }, { expiresAt: new Date(Date.now() - 1000) });
      // (Another client hears OTP_INVALID instead: otp-lockout.spec.ts.)
      expectError(await client.verify(phone.local, code), 400, 'OTP_EXPIRED');
      const stored = await storedFor(app, phone.e164);
      expect({ codes: stored.codes.length, users: stored.users.length }).toStrictEqual({ codes: 0, users: 0 });
    });

    it('binds a code to its number: it fails for another number, even with the other number’s row carrying its hash', async () => {
      const a = saudiMobile();
      const b = saudiMobile();
      await otpClient(app).send(a.local);
      await otpClient(app).send(b.local);
      const codeA = sms.lastCodeFor(a.e164)!;
      const codeB = sms.lastCodeFor(b.e164)!;
      if (codeA !== codeB) expectError(await otpClient(app).verify(b.local, codeA), 400, 'OTP_INVALID');
      const { verifications } = tables(app);
      const rowA = (await verifications.findOneByOrFail({ identifier: a.e164 })).valueHash;
      await verifications.update({ identifier: b.e164 }, { valueHash: rowA });
      expectError(await otpClient(app).verify(b.local, codeA), 400, 'OTP_INVALID');
      // A's own code still works for A.
      expect((await otpClient(app).verify(a.local, codeA)).status).toBe(200);
      expect((await storedFor(app, b.e164)).users).toHaveLength(0);
    });

    it('accepts the code typed with Arabic-Indic or Eastern Arabic-Indic digits', async () => {
      const arabic = saudiMobile();
      const persian = saudiMobile();
      await otpClient(app).send(arabic.local);
      await otpClient(app).send(persian.local);
      const a = await otpClient(app).verify(arabic.local, arabicDigits(sms.lastCodeFor(arabic.e164)!));
      const p = await otpClient(app).verify(persian.local, arabicDigits(sms.lastCodeFor(persian.e164)!, 0x06f0));
      expect([a.status, p.status]).toStrictEqual([200, 200]);
    });

    it('refuses the code in fullwidth digits with 400 INVALID_INPUT without counting an attempt', async () => {
      const phone = saudiMobile();
      await otpClient(app).send(phone.local);
      const code = sms.lastCodeFor(phone.e164)!;
      expectError(await otpClient(app).verify(phone.local, fullwidthDigits(code)), 400, 'INVALID_INPUT');
      expect((await storedFor(app, phone.e164)).codes.map((c) => c.attempts)).toStrictEqual([0]);
      expect((await otpClient(app).verify(phone.local, code)).status).toBe(200);
    });

    it('refuses codes of the wrong length or with other characters with 400 INVALID_INPUT without counting an attempt', async () => {
      const phone = saudiMobile();
      await otpClient(app).send(phone.local);
      const code = sms.lastCodeFor(phone.e164)!;
      for (const otp of [code.slice(1), `${code}1`, ` ${code}`, `${code.slice(0, 5)}a`, '-12345', '1e5000', '']) {
        expectError(await otpClient(app).verify(phone.local, otp), 400, 'INVALID_INPUT');
      }
      expect((await storedFor(app, phone.e164)).codes.map((c) => c.attempts)).toStrictEqual([0]);
    });

    it('answers a failed SMS with 502 SMS_FAILED, leaves no usable code and lets the person ask again at once', async () => {
      const phone = saudiMobile();
      const send = jest.spyOn(sms, 'send');
      sms.failNext = true;
      expectError(await otpClient(app).send(phone.local), 502, 'SMS_FAILED');
      expect(send).toHaveBeenCalledTimes(1);
      const failedCode = send.mock.calls[0][0].code;
      expect((await storedFor(app, phone.e164)).codes).toHaveLength(0);
      expectError(await otpClient(app).verify(phone.local, failedCode), 400, 'OTP_INVALID');

      expect((await otpClient(app).send(phone.local)).status).toBe(200);
      expect((await storedFor(app, phone.e164)).codes).toHaveLength(1);
    });

    it('answers a provider that throws like a failed send: 502 SMS_FAILED, no code stored, the code not logged', async () => {
      const phone = saudiMobile();
      const logged: string[] = [];
      jest.spyOn(Logger.prototype, 'warn').mockImplementation((message: unknown) => {
        logged.push(String(message));
      });
      jest.spyOn(sms, 'send').mockImplementationOnce(async ({ code }) => {
        throw new Error(`vendor rejected message "${code}"`);
      });
      const res = await otpClient(app).send(phone.local);
      expectError(res, 502, 'SMS_FAILED');
      expect((await storedFor(app, phone.e164)).codes).toHaveLength(0);
      expect(logged.join('\n')).toContain('vendor rejected');
      expect(logged.join('\n')).not.toMatch(/"[0-9]{6}"/);
    });

    it('never selects an account that lists the number unverified (O9): the owner gets a new account and the claim is removed', async () => {
      const phone = saudiMobile();
      const { users } = tables(app);
      const attacker = users.create({
        id: randomUUID(),
        email: `attacker-${randomUUID()}@example.com`,
        emailVerified: true,
        phone: phone.e164,
        phoneVerified: false,
        name: 'attacker',
        image: null,
      });
      await users.insert(attacker);

      const client = otpClient(app);
      await client.send(phone.local);
      const res = await client.verify(phone.local, sms.lastCodeFor(phone.e164)!);
      expect(res.status).toBe(200);
      expect(res.body.isNewUser).toBe(true);
      expect(res.body.user.id).not.toBe(attacker.id);
      expect(res.body.session.userId).toBe(res.body.user.id);
      expect(res.body.user).toMatchObject({ phone: phone.e164, phoneVerified: true });
      const session = await client.session(sessionCookie(res));
      expect(session.body.user.id).toBe(res.body.user.id);
      const claim = await users.findOneByOrFail({ id: attacker.id });
      expect({ phone: claim.phone, email: claim.email }).toStrictEqual({ phone: null, email: attacker.email });
      expect(await tables(app).sessions.countBy({ userId: attacker.id })).toBe(0);
    });

    it('refuses a send and a verify from another site with 403 INVALID_ORIGIN (login CSRF), leaving the code usable', async () => {
      const phone = saudiMobile();
      const client = otpClient(app);
      const send = jest.spyOn(sms, 'send');
      expectError(await client.send(phone.local, { Origin: 'https://evil.example' }), 403, 'INVALID_ORIGIN');
      expect(send).not.toHaveBeenCalled();
      // A first-party page: its origin is the host the request was sent to.
      expect((await client.send(phone.local, { Host: 'app.example', Origin: 'https://app.example' })).status).toBe(200);
      const code = sms.lastCodeFor(phone.e164)!;
      const csrf = await request(app.getHttpServer())
        .post('/auth/otp/verify')
        .set('X-Forwarded-For', client.ip)
        .set('Origin', 'https://evil.example')
        .send({ method: 'phone', phone: phone.local, otp: code });
      expectError(csrf, 403, 'INVALID_ORIGIN');
      expect(csrf.headers['set-cookie']).toBeUndefined();
      expect((await storedFor(app, phone.e164)).codes.map((c) => c.attempts)).toStrictEqual([0]);
      expect((await client.verify(phone.local, code)).status).toBe(200);
    });

    it('limits sends per client address across numbers (SMS pumping), IPv6 per /64, with Retry-After', async () => {
      const send = jest.spyOn(sms, 'send');
      const prefix = `2001:db8:${Math.floor(Math.random() * 0xffff).toString(16)}:1`;
      for (let i = 1; i <= 30; i++) {
        const res = await otpClient(app, `${prefix}::${i.toString(16)}`).send(saudiMobile().local);
        expect(res.status).toBe(200);
      }
      const phone = saudiMobile();
      expectTooMany(await otpClient(app, `${prefix}:ffff:ffff:ffff:ffff`).send(phone.local), 'RATE_LIMITED', 600);
      expect(send).toHaveBeenCalledTimes(30);
      expect((await storedFor(app, phone.e164)).codes).toHaveLength(0);
      // Another /64 is not affected.
      expect((await otpClient(app, `${prefix.slice(0, -1)}2::1`).send(phone.local)).status).toBe(200);
    });

    it('limits verifications per client address with 429 RATE_LIMITED and Retry-After', async () => {
      const client = otpClient(app);
      for (let i = 0; i < 60; i++) expectError(await client.verify(saudiMobile().local, '123456'), 400, 'OTP_INVALID');
      expectTooMany(await client.verify(saudiMobile().local, '123456'), 'RATE_LIMITED', 600);
    });

    describe('refuses every malformed body with 400 INVALID_INPUT and stores nothing', () => {
      const phone = saudiMobile();
      let code: string;

      beforeAll(async () => {
        expect((await otpClient(app).send(phone.local)).status).toBe(200);
        code = sms.lastCodeFor(phone.e164)!;
      });

      let messagesBefore: number;
      beforeEach(() => {
        messagesBefore = sms.messages.length;
      });

      afterEach(async () => {
        expect(sms.messages.length).toBe(messagesBefore);
        const stored = await storedFor(app, phone.e164);
        expect({ codes: stored.codes.map((c) => c.attempts), users: stored.users.length }).toStrictEqual({
          codes: [0],
          users: 0,
        });
      });

      afterAll(async () => {
        // The code survived all of it and still signs in.
        expect((await otpClient(app).verify(phone.local, code)).status).toBe(200);
      });

      const other = saudiMobile();
      const sendBodies: [string, () => unknown][] = [
        ['an empty object', () => ({})],
        ['no phone', () => ({ method: 'phone' })],
        ['no method', () => ({ phone: other.local })],
        ["method 'email'", () => ({ method: 'email', phone: other.local })],
        ["method 'email' with an email", () => ({ method: 'email', email: 'a@example.com' })],
        ['a numeric phone', () => ({ method: 'phone', phone: 551234567 })],
        ['a phone array', () => ({ method: 'phone', phone: [other.local] })],
        ['a phone object', () => ({ method: 'phone', phone: { number: other.local } })],
        ['a null phone', () => ({ method: 'phone', phone: null })],
        ['a method array', () => ({ method: ['phone'], phone: other.local })],
        ['an extra field', () => ({ method: 'phone', phone: other.local, purpose: 'reset-password' })],
        ['a body array', () => [{ method: 'phone', phone: other.local }]],
        ['a 100 kB phone', () => ({ method: 'phone', phone: '5'.repeat(100_000) })],
      ];
      it.each(sendBodies)('POST /auth/otp/send with %s', async (_name, body) => {
        expectError(await otpClient(app).sendBody(body()), 400, 'INVALID_INPUT');
        expect((await storedFor(app, other.e164)).codes).toHaveLength(0);
      });

      const verifyBodies: [string, () => unknown][] = [
        ['an empty object', () => ({})],
        ['no otp', () => ({ method: 'phone', phone: phone.local })],
        ['no phone', () => ({ method: 'phone', otp: code })],
        ['no method', () => ({ phone: phone.local, otp: code })],
        ["method 'email'", () => ({ method: 'email', phone: phone.local, otp: code })],
        [
          "method 'email' with email and password",
          () => ({ method: 'email', email: 'a@example.com', password: 'x'.repeat(12) }),
        ],
        ['a numeric otp', () => ({ method: 'phone', phone: phone.local, otp: Number(code) })],
        ['an otp array', () => ({ method: 'phone', phone: phone.local, otp: [code] })],
        ['a null otp', () => ({ method: 'phone', phone: phone.local, otp: null })],
        ['a numeric phone', () => ({ method: 'phone', phone: Number(phone.local), otp: code })],
        ['a numeric name', () => ({ method: 'phone', phone: phone.local, otp: code, name: 7 })],
        ['a null name', () => ({ method: 'phone', phone: phone.local, otp: code, name: null })],
        ['an empty name', () => ({ method: 'phone', phone: phone.local, otp: code, name: '   ' })],
        ['a 101-character name', () => ({ method: 'phone', phone: phone.local, otp: code, name: 'n'.repeat(101) })],
        [
          'a name with a control character',
          () => ({ method: 'phone', phone: phone.local, otp: code, name: 'Sara\u0000' }),
        ],
        ['an extra field', () => ({ method: 'phone', phone: phone.local, otp: code, isAdmin: true })],
        ['a body array', () => [{ method: 'phone', phone: phone.local, otp: code }]],
        ['a 100 kB otp', () => ({ method: 'phone', phone: phone.local, otp: '1'.repeat(100_000) })],
        ['a 100 kB phone', () => ({ method: 'phone', phone: '5'.repeat(100_000), otp: code })],
      ];
      it.each(verifyBodies)('POST /auth/otp/verify with %s', async (_name, body) => {
        const res = await otpClient(app).verifyBody(body());
        expectError(res, 400, 'INVALID_INPUT');
        expect(res.headers['set-cookie']).toBeUndefined();
      });

      it.each([
        ['send', '/auth/otp/send', () => `{"method":"phone","phone":"${other.local}","__proto__":{"isAdmin":true}}`],
        [
          'verify',
          '/auth/otp/verify',
          () => `{"method":"phone","phone":"${phone.local}","otp":"${code}","__proto__":{"name":"x"}}`,
        ],
      ])('POST %s with a __proto__ key in the raw JSON (%#)', async (_name, path, raw) => {
        const res = await request(app.getHttpServer())
          .post(path)
          .set('X-Forwarded-For', uniqueIp())
          .set('Content-Type', 'application/json')
          .send(raw());
        expectError(res, 400, 'INVALID_INPUT');
      });

      it.each([
        ['/auth/otp/send', 'text/plain', () => `method=phone&phone=${other.local}`],
        [
          '/auth/otp/verify',
          'application/x-www-form-urlencoded',
          () => `method=phone&phone=${phone.local}&otp=${code}&x=1`,
        ],
      ])('POST %s with a %s body', async (path, type, raw) => {
        const res = await request(app.getHttpServer())
          .post(path)
          .set('X-Forwarded-For', uniqueIp())
          .set('Content-Type', type)
          .send(raw());
        expect(res.status).toBe(400);
        expect(res.body.error?.code).toMatch(/^INVALID_INPUT$/);
      });

      it('POST /auth/otp/send and /auth/otp/verify with invalid JSON or a JSON string or null answer 400 and leak nothing', async () => {
        for (const path of ['/auth/otp/send', '/auth/otp/verify']) {
          for (const raw of [`{"method":"phone","phone":"${phone.local}","otp":`, '"just a string"', 'null']) {
            const res = await request(app.getHttpServer())
              .post(path)
              .set('X-Forwarded-For', uniqueIp())
              .set('Content-Type', 'application/json')
              .send(raw);
            expect(res.status).toBe(400);
            expect(res.text).not.toMatch(/at .*\.(js|ts):\d+|node_modules/);
          }
        }
      });
    });
  });

  describe('with resendCooldown 0, maxAttempts 2, maxSendsPerHour 8 (8 per client), maxFailuresPerClient 6, length 8 and recording hooks', () => {
    let app: INestApplication;
    let sms: InMemorySmsProvider;

    beforeAll(async () => {
      ({ app, sms } = await createOtpTestApp({
        database: database.options,
        platform,
        smsVia: 'option',
        auth: {
          otp: {
            resendCooldown: 0,
            maxAttempts: 2,
            maxSendsPerHour: 8,
            maxSendsPerClientPerHour: 8,
            maxFailuresPerClient: 6,
            length: 8,
            expiresIn: 120,
          },
          hooks: recordingHooks(),
        },
      }));
    });

    afterAll(async () => {
      await app?.close();
    });

    beforeEach(() => {
      hookCalls.length = 0;
      delete hookPlan.throwIn;
      delete hookPlan.beforeSignUp;
    });

    afterEach(() => {
      jest.restoreAllMocks();
    });

    /** Sends a code to `phone` and returns it. */
    async function sendCode(phone: { local: string; e164: string }, client = otpClient(app)): Promise<string> {
      const res = await client.send(phone.local);
      expect(res.status).toBe(200);
      return sms.lastCodeFor(phone.e164)!;
    }

    it('signs a new number in end to end, then signs the same person in again as an existing user', async () => {
      const phone = saudiMobile();
      const client = otpClient(app);
      const code = await sendCode(phone, client);
      expect(code).toMatch(/^[0-9]{8}$/);

      const first = await client.verify(phone.local, code, { name: 'سارة' });
      expect(first.status).toBe(200);
      expect(first.body).toStrictEqual({
        user: {
          id: expect.any(String),
          email: null,
          phone: phone.e164,
          name: 'سارة',
          image: null,
          emailVerified: false,
          phoneVerified: true,
        },
        session: { id: expect.any(String), userId: first.body.user.id, expiresAt: expect.any(String) },
        isNewUser: true,
      });
      const cookie = sessionCookie(first);
      expect(cookie).toMatch(/^__Host-auth_session=.+/);
      expect(first.headers['set-cookie']![0]).toMatch(/HttpOnly/);

      const session = await client.session(cookie);
      expect(session.status).toBe(200);
      expect({ user: session.body.user.id, session: session.body.session.id }).toStrictEqual({
        user: first.body.user.id,
        session: first.body.session.id,
      });
      // The code was single use.
      expectError(await client.verify(phone.local, code), 400, 'OTP_INVALID');

      const second = await client.verify(phone.local, await sendCode(phone, client), { name: 'Someone else' });
      expect(second.status).toBe(200);
      expect(second.body.isNewUser).toBe(false);
      expect(second.body.user).toStrictEqual(first.body.user);
      expect(second.body.session.id).not.toBe(first.body.session.id);
      expect(sessionCookie(second)).not.toBe(cookie);
      const stored = await storedFor(app, phone.e164);
      expect({ users: stored.users.length, sessions: stored.sessions.length }).toStrictEqual({ users: 1, sessions: 2 });
    });

    it('refuses the send past maxSendsPerHour with 429 RATE_LIMITED and Retry-After, without calling the SMS provider', async () => {
      const phone = saudiMobile();
      for (let i = 0; i < 8; i++) await sendCode(phone, otpClient(app));
      const send = jest.spyOn(sms, 'send');
      const retryAfter = expectTooMany(await otpClient(app).send(phone.local), 'RATE_LIMITED', 3600);
      expect(retryAfter).toBeGreaterThan(3500);
      expect(send).not.toHaveBeenCalled();
      // A new code replaced each older one.
      expect((await storedFor(app, phone.e164)).codes).toHaveLength(1);
    });

    it('does not reset a client’s failure budget on resend: after maxFailuresPerClient wrong codes even a fresh code is refused to it for a day, not to the owner', async () => {
      const phone = saudiMobile();
      const client = otpClient(app);
      // 2 + 1 + 2 + 1 = 6 wrong codes spread over four codes; the last code has used only one of its attempts.
      for (const wrong of [2, 1, 2, 1]) {
        const code = await sendCode(phone, client);
        for (let i = 1; i <= wrong; i++)
          expectError(await client.verify(phone.local, wrongCode(code, i)), 400, 'OTP_INVALID');
      }
      const last = sms.lastCodeFor(phone.e164)!;
      expect((await storedFor(app, phone.e164)).codes.map((c) => c.attempts)).toStrictEqual([1]);
      expect(expectTooMany(await client.verify(phone.local, last), 'OTP_TOO_MANY_ATTEMPTS', DAY)).toBeGreaterThan(
        DAY - 100,
      );

      const fresh = await sendCode(phone, client);
      const res = await client.verify(phone.local, fresh);
      const retryAfter = expectTooMany(res, 'OTP_TOO_MANY_ATTEMPTS', DAY);
      expect(retryAfter).toBeGreaterThan(DAY - 100);
      const stored = await storedFor(app, phone.e164);
      expect({ attempts: stored.codes.map((c) => c.attempts), users: stored.users.length }).toStrictEqual({
        attempts: [0],
        users: 0,
      });
      // The budget is the failed client's: the owner, on a client that has not failed, signs in.
      const owner = otpClient(app);
      expect((await owner.verify(phone.local, await sendCode(phone, owner))).status).toBe(200);
    });

    it('refuses a wrong code up to maxAttempts, then 429 OTP_TOO_MANY_ATTEMPTS even for the right code', async () => {
      const phone = saudiMobile();
      const owner = otpClient(app);
      const code = await sendCode(phone, owner);
      expectError(await otpClient(app).verify(phone.local, wrongCode(code, 1)), 400, 'OTP_INVALID');
      expectError(await otpClient(app).verify(phone.local, wrongCode(code, 2)), 400, 'OTP_INVALID');
      // Only the client that asked for the code learns it is used up; others hear a wrong code.
      expectError(await otpClient(app).verify(phone.local, code), 400, 'OTP_INVALID');
      const res = await owner.verify(phone.local, code);
      expectError(res, 429, 'OTP_TOO_MANY_ATTEMPTS');
      expect(res.headers['retry-after']).toMatch(/^[1-9][0-9]*$/);
      expect((await storedFor(app, phone.e164)).users).toHaveLength(0);
    });

    it('binds a code to its purpose: a sign-in code does not reset a password, even with the reset row carrying its hash', async () => {
      const phone = saudiMobile();
      const otp = app.get(OtpService);
      const signInCode = await sendCode(phone);
      await expect(otp.verify(phone.e164, 'reset-password', signInCode)).rejects.toMatchObject({ code: 'OTP_INVALID' });

      await otp.send(phone.local, 'reset-password', 'en');
      const resetCode = sms.lastCodeFor(phone.e164)!;
      const { verifications } = tables(app);
      const signInRow = await verifications.findOneByOrFail({ identifier: phone.e164, type: 'otp:sign-in' });
      expect(signInRow.valueHash).toBe(expectedHash(TEST_SECRET, 'sign-in', phone.e164, signInCode));
      await verifications.update(
        { identifier: phone.e164, type: 'otp:reset-password' },
        { valueHash: signInRow.valueHash },
      );
      await expect(otp.verify(phone.e164, 'reset-password', signInCode)).rejects.toMatchObject({ code: 'OTP_INVALID' });
      if (resetCode !== signInCode)
        expectError(await otpClient(app).verify(phone.local, resetCode), 400, 'OTP_INVALID');
      // Each code still works for its own purpose.
      expect((await otpClient(app).verify(phone.local, signInCode)).status).toBe(200);
    });

    it('verifies a reset-password code through OtpService once, returning the E.164 number', async () => {
      const phone = saudiMobile();
      const otp = app.get(OtpService);
      await expect(otp.send(phone.local, 'reset-password')).resolves.toStrictEqual({
        phone: phone.e164,
        maskedPhone: `+9665****${phone.e164.slice(-4)}`,
        channel: 'sms',
      });
      const code = sms.lastCodeFor(phone.e164)!;
      await expect(otp.verify(`٠${arabicDigits(phone.local.slice(1))}`, 'reset-password', code)).resolves.toBe(
        phone.e164,
      );
      await expect(otp.verify(phone.local, 'reset-password', code)).rejects.toMatchObject({ code: 'OTP_INVALID' });
      await expect(otp.verify(phone.local, 'reset-password', 12345678)).rejects.toMatchObject({
        code: 'INVALID_INPUT',
      });
      await expect(otp.verify(phone.local, 'change-address' as never, code)).rejects.toMatchObject({
        code: 'INVALID_INPUT',
      });
      await expect(otp.send(phone.local, 'change-address' as never)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    });

    it('sends to a number of another country when allowedCountries is not set', async () => {
      const res = await otpClient(app).send('+971 50 765 4321');
      expect({ status: res.status, body: res.body }).toStrictEqual({
        status: 200,
        body: { success: true, maskedPhone: '+9715****4321', channel: 'sms' },
      });
    });

    it('calls the hooks in order: beforeSignUp, afterSignUp, beforeSignIn, afterSignIn, afterOtpVerified; then without sign-up', async () => {
      const phone = saudiMobile();
      const first = await otpClient(app).verify(phone.local, await sendCode(phone));
      expect(first.status).toBe(200);
      expect(hookCalls.map((c) => c.name)).toStrictEqual([
        'beforeSignUp',
        'afterSignUp',
        'beforeSignIn',
        'afterSignIn',
        'afterOtpVerified',
      ]);
      const [beforeSignUp, afterSignUp, beforeSignIn, afterSignIn, afterOtpVerified] = hookCalls.map((c) => c.context);
      expect(beforeSignUp).toMatchObject({ method: 'phone', user: { phone: phone.e164, phoneVerified: true } });
      expect(afterSignUp).toMatchObject({ method: 'phone', user: { id: first.body.user.id } });
      expect(beforeSignIn).toMatchObject({ method: 'phone', user: { id: first.body.user.id } });
      expect(afterSignIn).toMatchObject({
        method: 'phone',
        user: { id: first.body.user.id },
        session: { id: first.body.session.id },
      });
      expect(afterOtpVerified).toMatchObject({
        phone: phone.e164,
        isNewUser: true,
        user: { id: first.body.user.id },
        session: { id: first.body.session.id },
      });

      hookCalls.length = 0;
      const second = await otpClient(app).verify(phone.local, await sendCode(phone));
      expect(second.status).toBe(200);
      expect(hookCalls.map((c) => c.name)).toStrictEqual(['beforeSignIn', 'afterSignIn', 'afterOtpVerified']);
      expect(hookCalls[2].context).toMatchObject({ isNewUser: false, session: { id: second.body.session.id } });
    });

    it.each(['afterSignIn', 'afterOtpVerified'] as const)(
      'stops at a throwing %s with 403 HOOK_REJECTED: no cookie, no session row, the code used up',
      async (hook) => {
        const phone = saudiMobile();
        const code = await sendCode(phone);
        hookPlan.throwIn = hook;
        const res = await otpClient(app).verify(phone.local, code);
        expectError(res, 403, 'HOOK_REJECTED');
        expect(res.headers['set-cookie']).toBeUndefined();
        expect(hookCalls.map((c) => c.name).at(-1)).toBe(hook);
        const stored = await storedFor(app, phone.e164);
        expect({ sessions: stored.sessions.length, codes: stored.codes.length }).toStrictEqual({
          sessions: 0,
          codes: 0,
        });
        delete hookPlan.throwIn;
        expectError(await otpClient(app).verify(phone.local, code), 400, 'OTP_INVALID');
      },
    );

    it('stops at a throwing beforeSignUp: no user, no session; an HttpException from a hook is answered as is', async () => {
      const phone = saudiMobile();
      hookPlan.throwIn = 'beforeSignUp';
      expectError(await otpClient(app).verify(phone.local, await sendCode(phone)), 403, 'HOOK_REJECTED');
      expect(hookCalls.map((c) => c.name)).toStrictEqual(['beforeSignUp']);
      delete hookPlan.throwIn;
      hookPlan.beforeSignUp = async () => {
        throw new ArrafAuthException('INVALID_PHONE');
      };
      expectError(await otpClient(app).verify(phone.local, await sendCode(phone)), 400, 'INVALID_PHONE');
      const stored = await storedFor(app, phone.e164);
      expect({ users: stored.users.length, sessions: stored.sessions.length }).toStrictEqual({ users: 0, sessions: 0 });
    });

    it('signs in as the account a concurrent request stored with the verified number, instead of failing', async () => {
      const phone = saudiMobile();
      const { users } = tables(app);
      const winner = randomUUID();
      // The insert of a concurrent first sign-in lands between our lookup and our insert.
      hookPlan.beforeSignUp = async () => {
        await users.insert(users.create({ id: winner, phone: phone.e164, phoneVerified: true, emailVerified: false }));
      };
      const res = await otpClient(app).verify(phone.local, await sendCode(phone));
      expect(res.status).toBe(200);
      expect({ id: res.body.user.id, isNewUser: res.body.isNewUser }).toStrictEqual({ id: winner, isNewUser: false });
      const stored = await storedFor(app, phone.e164);
      expect({ users: stored.users.length, sessions: stored.sessions.length }).toStrictEqual({ users: 1, sessions: 1 });
    });

    it('still creates the owner’s account when a concurrent sign-up claims the number unverified', async () => {
      const phone = saudiMobile();
      const { users } = tables(app);
      const squatter = randomUUID();
      let claimed = false;
      hookPlan.beforeSignUp = async () => {
        if (claimed) return;
        claimed = true;
        await users.insert(
          users.create({ id: squatter, phone: phone.e164, phoneVerified: false, emailVerified: false }),
        );
      };
      const res = await otpClient(app).verify(phone.local, await sendCode(phone));
      expect(res.status).toBe(200);
      expect(res.body.isNewUser).toBe(true);
      expect(res.body.user.id).not.toBe(squatter);
      expect((await users.findOneByOrFail({ id: squatter })).phone).toBeNull();
    });

    it('lets an application guard its own route with OtpAuthGuard: request.user is the verified user, no session is created', async () => {
      const phone = saudiMobile();
      const code = await sendCode(phone);
      const res = await request(app.getHttpServer())
        .post('/app/phone-login')
        .set('X-Forwarded-For', uniqueIp())
        .send({ method: 'phone', phone: phone.local, otp: code });
      expect(res.status).toBe(201);
      expect(res.body.phone).toBe(phone.e164);
      const stored = await storedFor(app, phone.e164);
      expect(stored.users.map((u) => u.id)).toStrictEqual([res.body.userId]);
      expect(stored.sessions).toHaveLength(0);
      expectError(
        await request(app.getHttpServer())
          .post('/app/phone-login')
          .send({ method: 'phone', phone: phone.local, otp: code }),
        400,
        'OTP_INVALID',
      );
    });

    it('verifies with the strategy of its own application when another application runs in the same process', async () => {
      const { app: other } = await createOtpTestApp({
        database: database.options,
        platform,
        auth: { secret: `another-secret-${randomUUID()}`, otp: { resendCooldown: 0 } },
      });
      try {
        const phone = saudiMobile();
        const res = await otpClient(app).verify(phone.local, await sendCode(phone));
        expect(res.status).toBe(200);
        expect(res.body.user.phone).toBe(phone.e164);
      } finally {
        await other.close();
      }
    });
  });

  describe('with ArrafAuthExceptionFilter registered globally', () => {
    let app: INestApplication;

    beforeAll(async () => {
      ({ app } = await createOtpTestApp({ database: database.options, platform, globalFilter: true }));
    });

    afterAll(async () => {
      await app?.close();
    });

    it.each(['/auth/otp/send', '/auth/otp/verify'])(
      'answers invalid JSON, a JSON string and null on %s with 400 INVALID_INPUT in the error shape',
      async (path) => {
        for (const raw of ['{"method":"phone",', '"just a string"', 'null']) {
          const res = await request(app.getHttpServer())
            .post(path)
            .set('X-Forwarded-For', uniqueIp())
            .set('Content-Type', 'application/json')
            .send(raw);
          expectError(res, 400, 'INVALID_INPUT');
        }
      },
    );
  });
});

describe.each(testDatabases().filter((d) => d.name === 'sqlite'))(
  'phone + OTP sign-in on fastify ($name)',
  (db: TestDatabase) => {
    let database: Database;
    let app: INestApplication;
    let sms: InMemorySmsProvider;

    beforeAll(async () => {
      database = await db.create();
      ({ app, sms } = await createOtpTestApp({ database: database.options, platform: 'fastify' }));
    });

    afterAll(async () => {
      await app?.close();
      await database?.drop();
    });

    it('signs a new number in: send → code → verify → cookie → GET /auth/session', async () => {
      const phone = saudiMobile();
      const client = otpClient(app);
      const sent = await client.send(phone.local);
      expect({ status: sent.status, body: sent.body }).toStrictEqual({
        status: 200,
        body: { success: true, maskedPhone: `+9665****${phone.e164.slice(-4)}`, channel: 'sms' },
      });
      const res = await client.verify(phone.local, sms.lastCodeFor(phone.e164)!, { name: 'Sara' });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        isNewUser: true,
        user: { phone: phone.e164, name: 'Sara', phoneVerified: true },
      });
      const session = await client.session(sessionCookie(res));
      expect(session.body.user.id).toBe(res.body.user.id);
    });

    it('answers a resend inside the cooldown with 429 RATE_LIMITED and Retry-After', async () => {
      const phone = saudiMobile();
      const client = otpClient(app);
      expect((await client.send(phone.local)).status).toBe(200);
      expectTooMany(await client.send(phone.local), 'RATE_LIMITED', 60);
    });

    it('refuses a malformed body with 400 INVALID_INPUT and stores nothing', async () => {
      const phone = saudiMobile();
      const client = otpClient(app);
      expectError(await client.sendBody({ method: 'phone', phone: phone.local, extra: true }), 400, 'INVALID_INPUT');
      expectError(await client.verifyBody({ method: 'phone', phone: phone.local, otp: 123456 }), 400, 'INVALID_INPUT');
      expect((await storedFor(app, phone.e164)).codes).toHaveLength(0);
    });

    it('answers invalid JSON with 400 and leaks nothing', async () => {
      const res = await request(app.getHttpServer())
        .post('/auth/otp/verify')
        .set('Content-Type', 'application/json')
        .send('{"method":');
      expect(res.status).toBe(400);
      expect(res.text).not.toMatch(/at .*\.(js|ts):\d+|node_modules/);
    });
  },
);
