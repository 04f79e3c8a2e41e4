import 'reflect-metadata';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { Passkey } from '../../src/passkeys/passkey.entity.js';
import { createTestApp } from '../apps/test-app.js';
import { Authenticator } from '../apps/two-factor-test-app.js';
import { type TestDatabase, testDatabases } from '../helpers/databases.js';
import { expectError, QueryLog, uniqueEmail } from '../helpers/session-test-utils.js';

const APP_URL = 'https://app.example';
const PASSWORD = 'correct horse battery staple';

function cookieOf(res: request.Response): string {
  const header = res.headers['set-cookie'] as unknown as string[];
  return header.find((c) => !/=;/.test(c))!.split(';')[0];
}

/**
 * `twoFactor.required` asks on every guarded request whether the user has a second factor. The
 * session lookup answers it in the same round trip (cache off) or from the cached entry (cache
 * on), and enabling or disabling a factor is seen by the very next request either way.
 */
describe.each(testDatabases())('twoFactor.required costs no extra query on $name', (db: TestDatabase) => {
  let database: Awaited<ReturnType<TestDatabase['create']>>;
  let app: INestApplication | undefined;
  const queries = new QueryLog();
  const http = () => request(app!.getHttpServer());
  const me = (cookie: string) => http().get('/me').set('Cookie', cookie);
  const post = (path: string, cookie: string) => http().post(path).set('Origin', APP_URL).set('Cookie', cookie);
  /** Statements a guarded request can cost: the session, its user, the user's factors. */
  const guardQueries = () => queries.statements.filter((sql) => /sessions|users|two_factors|passkeys/i.test(sql));

  /** Queries of one `GET /me`, with its status. */
  async function measured(cookie: string): Promise<{ status: number; queries: number }> {
    queries.reset();
    const res = await me(cookie);
    return { status: res.status, queries: guardQueries().length };
  }

  async function start(cache: boolean): Promise<void> {
    app = await createTestApp({
      database: database.options,
      onQuery: queries.onQuery,
      auth: { appUrl: APP_URL, twoFactor: { required: true }, session: { cache } },
    });
  }

  async function signedUp(): Promise<{ cookie: string; userId: string }> {
    const up = await http()
      .post('/auth/sign-up')
      .send({ email: uniqueEmail('tfa'), password: PASSWORD })
      .expect(201);
    return { cookie: cookieOf(up), userId: up.body.user.id as string };
  }

  beforeAll(async () => {
    database = await db.create();
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });
  afterAll(async () => {
    await database.drop();
  });

  it.each([
    ['off', false],
    ['on', true],
  ])(
    'cache %s: one lookup at most per guarded request, and enrolling or disabling is seen at once',
    async (_, cache) => {
      await start(cache);
      const { cookie } = await signedUp();

      const refused = await measured(cookie);
      expect(refused.status).toBe(403);
      expect(refused.queries).toBe(1);
      expectError(await me(cookie), 403, 'TWO_FACTOR_ENROLMENT_REQUIRED');
      // Answered from the cached entry when the cache is on: no query at all.
      expect(await measured(cookie)).toEqual({ status: 403, queries: cache ? 0 : 1 });

      const enabled = await post('/auth/two-factor/enable', cookie).expect(200);
      const authenticator = new Authenticator(enabled.body.totpUri as string);
      await post('/auth/two-factor/confirm', cookie)
        .send({ code: await authenticator.code() })
        .expect(200);
      expect(await measured(cookie)).toEqual({ status: 200, queries: 1 });
      expect(await measured(cookie)).toEqual({ status: 200, queries: cache ? 0 : 1 });

      await post('/auth/two-factor/disable', cookie)
        .send({ code: await authenticator.code(1) })
        .expect(200);
      expectError(await me(cookie), 403, 'TWO_FACTOR_ENROLMENT_REQUIRED');
      expect(await measured(cookie)).toEqual({ status: 403, queries: cache ? 0 : 1 });
    },
  );

  it.each([
    ['off', false],
    ['on', true],
  ])('cache %s: a passkey added or removed outside the library is seen at once', async (_, cache) => {
    await start(cache);
    const { cookie, userId } = await signedUp();
    expectError(await me(cookie), 403, 'TWO_FACTOR_ENROLMENT_REQUIRED');
    const passkeys = app!.get(DataSource).getRepository(Passkey);
    const id = `pk-${userId.slice(0, 30)}`;
    await passkeys.insert({
      id,
      userId,
      credentialId: id,
      publicKey: 'key',
      counter: 0,
      transports: null,
      name: 'Test key',
      deviceType: 'singleDevice',
    });
    expect(await measured(cookie)).toEqual({ status: 200, queries: 1 });
    // A passkey's counter moving on each use changes nothing the guard needs: the entry stays.
    await passkeys.update({ id }, { counter: 1 });
    expect(await measured(cookie)).toEqual({ status: 200, queries: cache ? 0 : 1 });
    await passkeys.delete({ id });
    expectError(await me(cookie), 403, 'TWO_FACTOR_ENROLMENT_REQUIRED');
  });
});
