import 'reflect-metadata';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Injectable, type INestApplication } from '@nestjs/common';
import request from 'supertest';
import {
  RATE_LIMIT_STORE,
  type RateLimitHit,
  type RateLimitStore,
  SMS_PROVIDER,
  type VerificationDelivery,
  VerificationService,
} from '../../src/index.js';
import type { SmsMessage, SmsProvider, SmsSendResult } from '../../src/sms/sms-provider.interface.js';
import { createTestSession } from '../../src/testing/index.js';
import { createPasswordTestApp, freshEmail, GOOD_PASSWORD, OTHER_PASSWORD } from '../apps/password-test-app.js';
import { type TestDatabase, testDatabases } from '../helpers/databases.js';
import { sameSite } from '../helpers/same-site.js';

/**
 * `overrideProvider(...)` of the pluggable parts reaches every route that uses them: nothing in the
 * library builds its own limiter, store or verification service behind DI's back.
 *
 * SESSION_STORE is added by the session-layer branch; its override test lives there until the
 * branches are merged (then add it here beside the three below).
 */

/** A store that refuses everything and remembers which keys were asked for. */
class RefusingRateLimitStore implements RateLimitStore {
  readonly keys: string[] = [];
  async hit(key: string): Promise<RateLimitHit> {
    this.keys.push(key);
    return { count: 1_000_000, resetAt: Date.now() + 30_000 };
  }
  async peek(key: string): Promise<RateLimitHit | null> {
    this.keys.push(key);
    return { count: 1_000_000, resetAt: Date.now() + 30_000 };
  }
  async reset(): Promise<void> {}
}

class RecordingSmsProvider implements SmsProvider {
  readonly sent: SmsMessage[] = [];
  async send(message: SmsMessage): Promise<SmsSendResult> {
    this.sent.push(message);
    return { success: true, messageId: String(this.sent.length) };
  }
}

const verificationCalls: string[] = [];

/** The real service, recording each call: built by DI from the same dependencies. */
@Injectable()
class RecordingVerificationService extends VerificationService {
  override issue(...args: Parameters<VerificationService['issue']>) {
    verificationCalls.push(`issue ${args[0].type}`);
    return super.issue(...args);
  }
  override redeemCode(...args: Parameters<VerificationService['redeemCode']>) {
    verificationCalls.push(`redeemCode ${args[0].type}`);
    return super.redeemCode(...args);
  }
  override findLink(...args: Parameters<VerificationService['findLink']>) {
    verificationCalls.push(`findLink ${args[0].type}`);
    return super.findLink(...args);
  }
  override revoke(...args: Parameters<VerificationService['revoke']>) {
    verificationCalls.push(`revoke ${args[0]}`);
    return super.revoke(...args);
  }
}

let phoneCounter = 0;
function freshPhone(): string {
  return `+96655${String(4_000_000 + ++phoneCounter).padStart(7, '0')}`;
}

describe.each(testDatabases())('overrideProvider reaches every route on $name', (db: TestDatabase) => {
  let database: Awaited<ReturnType<TestDatabase['create']>>;

  beforeAll(async () => {
    database = await db.create();
  });

  afterAll(async () => {
    await database?.drop();
  });

  describe('RATE_LIMIT_STORE', () => {
    let app: INestApplication;
    const store = new RefusingRateLimitStore();

    beforeAll(async () => {
      ({ app } = await createPasswordTestApp({
        database: database.options,
        configure: (builder) => builder.overrideProvider(RATE_LIMIT_STORE).useValue(store),
      }));
    });

    afterAll(async () => {
      await app?.close();
    });

    it.each([
      ['POST /auth/otp/send', '/auth/otp/send', () => ({ method: 'phone', phone: freshPhone() })],
      ['POST /auth/otp/verify', '/auth/otp/verify', () => ({ method: 'phone', phone: freshPhone(), otp: '123456' })],
      [
        'POST /auth/sign-in (email)',
        '/auth/sign-in',
        () => ({ method: 'email', email: freshEmail(), password: GOOD_PASSWORD }),
      ],
      ['POST /auth/sign-in (phone)', '/auth/sign-in', () => ({ method: 'phone', phone: freshPhone() })],
      ['POST /auth/sign-up', '/auth/sign-up', () => ({ email: freshEmail(), password: GOOD_PASSWORD })],
      ['POST /auth/forgot-password (email)', '/auth/forgot-password', () => ({ method: 'email', email: freshEmail() })],
      ['POST /auth/forgot-password (phone)', '/auth/forgot-password', () => ({ method: 'phone', phone: freshPhone() })],
      [
        'POST /auth/reset-password',
        '/auth/reset-password',
        () => ({ method: 'email', email: freshEmail(), otp: '123456', newPassword: OTHER_PASSWORD }),
      ],
      ['POST /auth/verify-email', '/auth/verify-email', () => ({ email: freshEmail(), otp: '123456' })],
    ])('%s is refused with 429 by the overriding store', async (_label, path, body) => {
      const before = store.keys.length;
      const res = await request(app.getHttpServer()).post(path).send(body());
      expect(res.status).toBe(429);
      expect(res.headers['retry-after']).toMatch(/^[1-9][0-9]*$/);
      expect(store.keys.length).toBeGreaterThan(before);
    });

    it.each([
      ['POST /auth/verify-email/send', '/auth/verify-email/send', {}],
      [
        'POST /auth/change-password',
        '/auth/change-password',
        { currentPassword: GOOD_PASSWORD, newPassword: OTHER_PASSWORD },
      ],
    ])('%s (signed in) is refused with 429 by the overriding store', async (_label, path, body) => {
      const { cookie } = await createTestSession(app, { email: freshEmail() });
      const before = store.keys.length;
      const res = await request(app.getHttpServer()).post(path).set(sameSite()).set('Cookie', cookie).send(body);
      expect(res.status).toBe(429);
      expect(store.keys.length).toBeGreaterThan(before);
    });
  });

  describe('SMS_PROVIDER and VerificationService', () => {
    let app: INestApplication;
    const sms = new RecordingSmsProvider();
    const mail: VerificationDelivery[] = [];
    const http = () => request(app.getHttpServer());

    beforeAll(async () => {
      ({ app } = await createPasswordTestApp({
        database: database.options,
        auth: {
          otp: { resendCooldown: 0 },
          callbacks: {
            onForgotPassword: (delivery) => void mail.push(delivery),
            onVerifyEmail: (delivery) => void mail.push(delivery),
          },
        },
        configure: (builder) =>
          builder
            .overrideProvider(SMS_PROVIDER)
            .useValue(sms)
            .overrideProvider(VerificationService)
            .useClass(RecordingVerificationService),
      }));
    });

    afterAll(async () => {
      await app?.close();
    });

    beforeEach(() => {
      verificationCalls.length = 0;
    });

    it('the app resolves the overriding VerificationService', () => {
      expect(app.get(VerificationService)).toBeInstanceOf(RecordingVerificationService);
    });

    it('phone sign-in: otp/send and sign-in send through the overriding SMS provider and issue through it; otp/verify checks through it', async () => {
      const phone = freshPhone();
      await http().post('/auth/otp/send').send({ method: 'phone', phone }).expect(200);
      expect(sms.sent.at(-1)?.to).toBe(phone);
      await http()
        .post('/auth/sign-in')
        .send({ method: 'phone', phone })
        .expect(200, { nextStep: 'otp', channel: 'sms' });
      expect(sms.sent.filter((m) => m.to === phone)).toHaveLength(2);
      const code = sms.sent.at(-1)!.code;
      await http().post('/auth/otp/verify').send({ method: 'phone', phone, otp: code }).expect(200);
      expect(verificationCalls).toStrictEqual(['issue otp:sign-in', 'issue otp:sign-in', 'redeemCode otp:sign-in']);
    });

    it('password reset by phone: forgot-password sends through the overriding SMS provider; both steps use the overriding service', async () => {
      const phone = freshPhone();
      await http().post('/auth/otp/send').send({ method: 'phone', phone }).expect(200);
      await http()
        .post('/auth/otp/verify')
        .send({ method: 'phone', phone, otp: sms.sent.at(-1)!.code })
        .expect(200);
      verificationCalls.length = 0;
      await http().post('/auth/forgot-password').send({ method: 'phone', phone }).expect(200);
      const code = sms.sent.at(-1)!.code;
      expect(sms.sent.at(-1)!.to).toBe(phone);
      await http()
        .post('/auth/reset-password')
        .send({ method: 'phone', phone, otp: code, newPassword: OTHER_PASSWORD })
        .expect(200);
      expect(verificationCalls).toStrictEqual([
        'issue otp:reset-password',
        'redeemCode otp:reset-password',
        'revoke email:reset-password',
      ]);
    });

    it('password reset by email code and link, email verification, change-password: all through the overriding service', async () => {
      const email = freshEmail();
      await http().post('/auth/sign-up').send({ email, password: GOOD_PASSWORD }).expect(201);
      verificationCalls.length = 0;

      await http().post('/auth/forgot-password').send({ method: 'email', email }).expect(200);
      await http()
        .post('/auth/reset-password')
        .send({ method: 'email', email, otp: mail.at(-1)!.code, newPassword: OTHER_PASSWORD })
        .expect(200);
      await http().post('/auth/forgot-password').send({ method: 'email', email, mode: 'link' }).expect(200);
      await http()
        .post('/auth/reset-password')
        .send({ method: 'email', token: mail.at(-1)!.token, newPassword: GOOD_PASSWORD })
        .expect(200);
      const { cookie: fresh } = await createTestSession(app, { email: freshEmail() });
      await http().post('/auth/verify-email/send').set(sameSite()).set('Cookie', fresh).send({}).expect(200);
      const verify = mail.at(-1)!;
      await http().post('/auth/verify-email').send({ email: verify.identifier, otp: verify.code }).expect(200);
      await http()
        .post('/auth/verify-email/send')
        .set(sameSite())
        .set('Cookie', fresh)
        .send({ mode: 'link' })
        .expect(200);
      const signIn = await http().post('/auth/sign-in').send({ method: 'email', email, password: GOOD_PASSWORD });
      const signedIn = (signIn.headers['set-cookie'] as unknown as string[])[0].split(';')[0];
      await http()
        .post('/auth/change-password')
        .set(sameSite())
        .set('Cookie', signedIn)
        .send({ currentPassword: GOOD_PASSWORD, newPassword: OTHER_PASSWORD })
        .expect(200);
      expect(verificationCalls).toStrictEqual([
        'issue email:reset-password',
        'redeemCode email:reset-password',
        'revoke email:reset-password',
        'issue email:reset-password',
        'findLink email:reset-password',
        'revoke email:reset-password',
        'issue email:verify-email',
        'redeemCode email:verify-email',
        // Verified by now: nothing is issued for an address already proven.
        'revoke email:reset-password',
      ]);
    });
  });
});
