import 'reflect-metadata';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { User, type VerificationDelivery, Verification } from '../../src/index.js';
import { createTestSession } from '../../src/testing/index.js';
import {
  createPasswordTestApp,
  expectErrorBody,
  freshEmail,
  GOOD_PASSWORD,
  sessionCookie,
  tableCounts,
} from '../apps/password-test-app.js';
import { type TestDatabase, testDatabases } from '../helpers/databases.js';

const APP_URL = 'https://app.example.com';

describe.each(testDatabases())('email verification on $name', (db: TestDatabase) => {
  let database: Awaited<ReturnType<TestDatabase['create']>>;
  let app: INestApplication;
  const sent: VerificationDelivery[] = [];
  let failDelivery = false;

  const http = () => request(app.getHttpServer());
  const send = (cookie: string, body?: Record<string, unknown>) => {
    // As the app's own page sends it: a state-changing cookie request carries Origin.
    const req = http().post('/auth/verify-email/send').set('Cookie', cookie).set('Origin', APP_URL);
    return body === undefined ? req : req.send(body);
  };
  const verify = (body: Record<string, unknown>) => http().post('/auth/verify-email').send(body);
  const users = () => app.get(DataSource).getRepository(User);
  const isVerified = async (id: string) => (await users().findOneByOrFail({ id })).emailVerified;

  async function account() {
    const email = freshEmail();
    const res = await http().post('/auth/sign-up').send({ email, password: GOOD_PASSWORD }).expect(201);
    return { email, id: res.body.user.id as string, cookie: sessionCookie(res) };
  }

  async function requestVerification(cookie: string, body?: Record<string, unknown>): Promise<VerificationDelivery> {
    const before = sent.length;
    await send(cookie, body).expect(200, { success: true });
    expect(sent).toHaveLength(before + 1);
    return sent[sent.length - 1];
  }

  beforeAll(async () => {
    database = await db.create();
    ({ app } = await createPasswordTestApp({
      database: database.options,
      auth: {
        appUrl: APP_URL,
        callbacks: {
          onVerifyEmail: (delivery) => {
            if (failDelivery) throw new Error('mail server down');
            sent.push(delivery);
          },
        },
      },
    }));
  });

  afterAll(async () => {
    await app?.close();
    await database?.drop();
  });

  beforeEach(() => {
    failDelivery = false;
  });

  it('verifies with an emailed code (no body means otp), without a session, once only', async () => {
    const user = await account();
    const delivery = await requestVerification(user.cookie);
    expect(delivery).toStrictEqual({
      user: expect.objectContaining({ id: user.id, email: user.email }),
      identifier: user.email,
      mode: 'otp',
      code: expect.stringMatching(/^\d{6}$/),
      expiresAt: expect.any(Date),
    });
    expect(await isVerified(user.id)).toBe(false);
    await verify({ email: user.email, otp: delivery.code }).expect(200, { success: true });
    expect(await isVerified(user.id)).toBe(true);
    expectErrorBody(await verify({ email: user.email, otp: delivery.code }), 400, 'INVALID_TOKEN');
    const session = await http().get('/auth/session').set('Cookie', user.cookie).expect(200);
    expect(session.body.user.emailVerified).toBe(true);
  });

  it('verifies with a link token (SHA-256 stored, url from appUrl), once only', async () => {
    const user = await account();
    const delivery = await requestVerification(user.cookie, { mode: 'link' });
    expect(delivery).toStrictEqual({
      user: expect.objectContaining({ id: user.id }),
      identifier: user.email,
      mode: 'link',
      token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      url: `${APP_URL}/verify-email?token=${delivery.token}`,
      expiresAt: expect.any(Date),
    });
    const row = await app
      .get(DataSource)
      .getRepository(Verification)
      .findOneByOrFail({ valueHash: createHash('sha256').update(delivery.token!).digest('hex') });
    expect(row.type).toBe('email:verify-email');
    await verify({ token: delivery.token }).expect(200, { success: true });
    expect(await isVerified(user.id)).toBe(true);
    expectErrorBody(await verify({ token: delivery.token }), 400, 'INVALID_TOKEN');
  });

  it('refuses a wrong code, a code for another address, and an expired link', async () => {
    const first = await account();
    const second = await account();
    const code = (await requestVerification(first.cookie)).code!;
    const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
    expectErrorBody(await verify({ email: first.email, otp: wrong }), 400, 'INVALID_TOKEN');
    expectErrorBody(await verify({ email: second.email, otp: code }), 400, 'INVALID_TOKEN');
    expectErrorBody(await verify({ email: freshEmail('nobody'), otp: code }), 400, 'INVALID_TOKEN');

    const { token } = await requestVerification(second.cookie, { mode: 'link' });
    await app
      .get(DataSource)
      .getRepository(Verification)
      .update({ type: 'email:verify-email' }, { expiresAt: new Date(Date.now() - 1000) });
    expectErrorBody(await verify({ token }), 400, 'INVALID_TOKEN');
    expectErrorBody(await verify({ email: first.email, otp: code }), 400, 'INVALID_TOKEN');
    expect({ first: await isVerified(first.id), second: await isVerified(second.id) }).toEqual({
      first: false,
      second: false,
    });
  });

  it('sends nothing for an address that is already verified', async () => {
    const user = await account();
    await users().update({ id: user.id }, { emailVerified: true });
    const before = sent.length;
    await send(user.cookie, {}).expect(200, { success: true });
    expect(sent).toHaveLength(before);
  });

  it('answers a failing callback with 502 DELIVERY_FAILED and leaves no verification row', async () => {
    const user = await account();
    const before = await tableCounts(app);
    failDelivery = true;
    expectErrorBody(await send(user.cookie, { mode: 'otp' }), 502, 'DELIVERY_FAILED');
    expectErrorBody(await send(user.cookie, { mode: 'link' }), 502, 'DELIVERY_FAILED');
    expect(await tableCounts(app)).toEqual(before);
  });

  it('needs a session to send, and an email address on the account', async () => {
    expectErrorBody(await http().post('/auth/verify-email/send').send({}), 401, 'UNAUTHENTICATED');
    const phoneOnly = await createTestSession(app, { phone: '+966551239999' });
    expectErrorBody(await send(phoneOnly.cookie, {}), 400, 'EMAIL_REQUIRED');
  });

  it.each<[string, unknown]>([
    ['verify-email', { email: 'a@example.com' }],
    ['verify-email', { email: 'a@example.com', otp: '12345' }],
    ['verify-email', { email: 'a@example.com', otp: '١٢٣٤٥٦' }],
    ['verify-email', { token: 'a'.repeat(43), email: 'a@example.com' }],
    ['verify-email', { token: 42 }],
    ['verify-email', { otp: '123456' }],
    ['verify-email', { email: 'a@example.com', otp: '123456', extra: 1 }],
    ['verify-email/send', { mode: 'sms' }],
    ['verify-email/send', { email: 'someone-else@example.com' }],
  ])('POST /auth/%s with %j → 400 INVALID_INPUT, nothing stored or sent', async (route, body) => {
    const user = await createTestSession(app, { email: freshEmail() });
    const before = { counts: await tableCounts(app), sent: sent.length };
    expectErrorBody(
      await http()
        .post(`/auth/${route}`)
        .set('Cookie', user.cookie)
        .set('Origin', APP_URL)
        .send(body as object),
      400,
      'INVALID_INPUT',
    );
    expect({ counts: await tableCounts(app), sent: sent.length }).toEqual(before);
  });
});
