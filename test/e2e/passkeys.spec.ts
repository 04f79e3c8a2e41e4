import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { Passkey, Session } from '../../src/index.js';
import { expectErrorBody, freshEmail, GOOD_PASSWORD, sessionCookie } from '../apps/password-test-app.js';
import { createTwoFactorTestApp, TWO_FACTOR_APP_URL } from '../apps/two-factor-test-app.js';
import { type TestDatabase, testDatabases } from '../helpers/databases.js';

const ORIGIN = { Origin: TWO_FACTOR_APP_URL };

describe.each(testDatabases())('passkey routes on $name', (db: TestDatabase) => {
  let database: Awaited<ReturnType<TestDatabase['create']>>;
  let app: INestApplication;
  let noAppUrl: INestApplication;
  let required: INestApplication;

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
    ({ app } = await createTwoFactorTestApp(database.options));
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

  it('with twoFactor.required, a passkey counts as the enrolled second factor', async () => {
    const { cookie, userId } = await signUp(required);
    expectErrorBody(await http(required).get('/app/me').set('Cookie', cookie), 403, 'TWO_FACTOR_ENROLMENT_REQUIRED');
    await http(required).get('/auth/passkeys').set('Cookie', cookie).expect(200);
    await http(required).post('/auth/passkey/register/options').set(ORIGIN).set('Cookie', cookie).expect(200);
    await storedPasskey(userId, required);
    await http(required).get('/app/me').set('Cookie', cookie).expect(200, { id: userId });
  });
});
