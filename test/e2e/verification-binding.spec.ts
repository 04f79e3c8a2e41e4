import 'reflect-metadata';
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { DataSource, Like } from 'typeorm';
import { User, type VerificationDelivery, Verification } from '../../src/index.js';
import type { InMemorySmsProvider } from '../../src/testing/index.js';
import {
  createPasswordTestApp,
  expectErrorBody,
  freshEmail,
  GOOD_PASSWORD,
  OTHER_PASSWORD,
} from '../apps/password-test-app.js';
import { type TestDatabase, testDatabases } from '../helpers/databases.js';
import { sameSite } from '../helpers/same-site.js';

const NAME = 'Zubaydah Alqahtani';
/** Refused as PASSWORD_TOO_PREDICTABLE for an account named {@link NAME}, accepted for anyone else. */
const NAME_PASSWORD = 'zubaydah alqahtani 1990';

/**
 * Every one-time secret is bound to its purpose and recipient, and the reset route answers a wrong
 * code the same way whatever the account: the code is checked before the password rules look at
 * the account's email and name.
 */
describe.each(testDatabases())('one-time secrets bound to purpose, and reset enumeration, on $name', (db) => {
  let database: Awaited<ReturnType<TestDatabase['create']>>;
  let app: INestApplication;
  let sms: InMemorySmsProvider;
  const mail: { kind: 'reset' | 'verify'; delivery: VerificationDelivery }[] = [];
  let phoneCounter = 0;

  const http = () => request(app.getHttpServer());
  const reset = (body: Record<string, unknown>) => http().post('/auth/reset-password').send(body);
  const signIn = (email: string, password: string) =>
    http().post('/auth/sign-in').send({ method: 'email', email, password });
  const verifications = () => app.get(DataSource).getRepository(Verification);
  const users = () => app.get(DataSource).getRepository(User);
  const lastMail = (kind: 'reset' | 'verify') => mail.filter((m) => m.kind === kind).at(-1)!.delivery;

  async function account(options: { phone?: boolean; name?: string } = {}) {
    const email = freshEmail('bind');
    const phone = options.phone ? `+96655${String(3_000_000 + ++phoneCounter).padStart(7, '0')}` : undefined;
    const res = await http()
      .post('/auth/sign-up')
      .send({ email, password: GOOD_PASSWORD, name: options.name })
      .expect(201);
    const id = res.body.user.id as string;
    // The number as a phone sign-in proves it (a sign-up takes a phone only with its code).
    if (phone) await users().update({ id }, { phone, phoneVerified: true });
    const cookie = (res.headers['set-cookie'] as unknown as string[])[0].split(';')[0];
    return { email, phone, id, cookie };
  }

  async function requestReset(email: string, mode: 'otp' | 'link'): Promise<VerificationDelivery> {
    await http().post('/auth/forgot-password').send({ method: 'email', email, mode }).expect(200);
    return lastMail('reset');
  }

  beforeAll(async () => {
    database = await db.create();
    ({ app, sms } = await createPasswordTestApp({
      database: database.options,
      auth: {
        callbacks: {
          onForgotPassword: (delivery) => void mail.push({ kind: 'reset', delivery }),
          onVerifyEmail: (delivery) => void mail.push({ kind: 'verify', delivery }),
        },
      },
    }));
  });

  afterAll(async () => {
    await app?.close();
    await database?.drop();
  });

  beforeEach(() => sms.clear());

  describe('reset-password checks the code before the password rules (no account oracle)', () => {
    it('answers a wrong emailed code with a password built on the name INVALID_TOKEN, as for an unknown address', async () => {
      const user = await account({ name: NAME });
      const { code } = await requestReset(user.email, 'otp');
      const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
      const known = await reset({ method: 'email', email: user.email, otp: wrong, newPassword: NAME_PASSWORD });
      const unknown = await reset({
        method: 'email',
        email: freshEmail('nobody'),
        otp: wrong,
        newPassword: NAME_PASSWORD,
      });
      expectErrorBody(known, 400, 'INVALID_TOKEN');
      expect({ status: unknown.status, body: unknown.body }).toStrictEqual({ status: known.status, body: known.body });
      // The wrong guess spent an attempt of the code.
      const [row] = await verifications().findBy({ type: 'email:reset-password', identifier: Like(`${user.id}:%`) });
      expect(row.attempts).toBe(1);
    });

    it('runs the rules with the account’s name only behind the right code, and keeps that code for a better password', async () => {
      const user = await account({ name: NAME });
      const { code } = await requestReset(user.email, 'otp');
      expectErrorBody(
        await reset({ method: 'email', email: user.email, otp: code, newPassword: NAME_PASSWORD }),
        400,
        'PASSWORD_TOO_PREDICTABLE',
      );
      await reset({ method: 'email', email: user.email, otp: code, newPassword: OTHER_PASSWORD }).expect(200);
      await signIn(user.email, OTHER_PASSWORD).expect(200);
    });

    it('answers a wrong SMS reset code with a password built on the name INVALID_TOKEN, as for an unknown number', async () => {
      const user = await account({ phone: true, name: NAME });
      await http().post('/auth/forgot-password').send({ method: 'phone', phone: user.phone }).expect(200);
      const code = sms.lastCodeFor(user.phone!)!;
      const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
      const known = await reset({ method: 'phone', phone: user.phone, otp: wrong, newPassword: NAME_PASSWORD });
      const unknown = await reset({ method: 'phone', phone: '+966559999991', otp: wrong, newPassword: NAME_PASSWORD });
      expectErrorBody(known, 400, 'INVALID_TOKEN');
      expect({ status: unknown.status, body: unknown.body }).toStrictEqual({ status: known.status, body: known.body });
      // Behind the right code the rules run, and the code survives the refusal.
      expectErrorBody(
        await reset({ method: 'phone', phone: user.phone, otp: code, newPassword: NAME_PASSWORD }),
        400,
        'PASSWORD_TOO_PREDICTABLE',
      );
      await reset({ method: 'phone', phone: user.phone, otp: code, newPassword: OTHER_PASSWORD }).expect(200);
      await signIn(user.email, OTHER_PASSWORD).expect(200);
    });
  });

  describe('a secret only works for its own purpose', () => {
    it('refuses an SMS sign-in code as a password reset code', async () => {
      const user = await account({ phone: true });
      await http().post('/auth/otp/send').send({ method: 'phone', phone: user.phone }).expect(200);
      const signInCode = sms.lastCodeFor(user.phone!)!;
      expectErrorBody(
        await reset({ method: 'phone', phone: user.phone, otp: signInCode, newPassword: OTHER_PASSWORD }),
        400,
        'INVALID_TOKEN',
      );
      await signIn(user.email, GOOD_PASSWORD).expect(200);
      // It still signs the phone in: the refused reset did not consume it.
      await http().post('/auth/otp/verify').send({ method: 'phone', phone: user.phone, otp: signInCode }).expect(200);
    });

    it('refuses an email-verification link as a reset link, and a reset link as an email-verification link', async () => {
      const user = await account();
      await http()
        .post('/auth/verify-email/send')
        .set(sameSite())
        .set('Cookie', user.cookie)
        .send({ mode: 'link' })
        .expect(200);
      const verifyToken = lastMail('verify').token!;
      const { token: resetToken } = await requestReset(user.email, 'link');
      expectErrorBody(
        await reset({ method: 'email', token: verifyToken, newPassword: OTHER_PASSWORD }),
        400,
        'INVALID_TOKEN',
      );
      expectErrorBody(await http().post('/auth/verify-email').send({ token: resetToken }), 400, 'INVALID_TOKEN');
      expect((await users().findOneByOrFail({ id: user.id })).emailVerified).toBe(false);
      await signIn(user.email, GOOD_PASSWORD).expect(200);
    });

    it('refuses an email link token as a reset code or an SMS code, and an emailed code as a link', async () => {
      const user = await account({ phone: true });
      const { token } = await requestReset(user.email, 'link');
      expectErrorBody(
        await reset({ method: 'email', email: user.email, otp: token, newPassword: OTHER_PASSWORD }),
        400,
        'INVALID_INPUT',
      );
      expectErrorBody(
        await reset({ method: 'phone', phone: user.phone, otp: token, newPassword: OTHER_PASSWORD }),
        400,
        'INVALID_INPUT',
      );
      const { code } = await requestReset(user.email, 'otp');
      expect((await reset({ method: 'email', token: code, newPassword: OTHER_PASSWORD })).status).toBe(400);
      await signIn(user.email, GOOD_PASSWORD).expect(200);
    });

    it('refuses a used OAuth state (stored as OAuthService stores it) as a reset or verification link', async () => {
      const user = await account();
      // The row OAuthService writes when a callback consumes `state`: SHA-256 of the state, type oauth-state.
      const state = randomBytes(32).toString('base64url');
      await verifications().insert({
        id: createHash('sha256').update(`arraf-auth:oauth-state:${state}`).digest('hex').slice(0, 36),
        identifier: `${user.id}:${createHash('sha256').update(user.email).digest('hex')}`,
        type: 'oauth-state',
        valueHash: createHash('sha256').update(state).digest('hex'),
        expiresAt: new Date(Date.now() + 600_000),
        attempts: 0,
      });
      expectErrorBody(
        await reset({ method: 'email', token: state, newPassword: OTHER_PASSWORD }),
        400,
        'INVALID_TOKEN',
      );
      expectErrorBody(await http().post('/auth/verify-email').send({ token: state }), 400, 'INVALID_TOKEN');
      await signIn(user.email, GOOD_PASSWORD).expect(200);
      expect(await verifications().countBy({ type: 'oauth-state', identifier: Like(`${user.id}:%`) })).toBe(1);
    });
  });
});
