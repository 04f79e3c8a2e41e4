import 'reflect-metadata';
import { createHash } from 'node:crypto';
import * as realCrypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';

/** Every buffer `crypto.randomBytes` returned synchronously, with the size asked for. */
const drawn: { size: number; value: Buffer }[] = [];

// Before anything imports the library: its `node:crypto` is this wrapper, which records and
// delegates, so the test sees exactly which random bytes the library drew.
jest.unstable_mockModule('node:crypto', () => ({
  ...realCrypto,
  randomBytes: ((size: number, callback?: (error: Error | null, buffer: Buffer) => void) => {
    if (callback) return realCrypto.randomBytes(size, callback);
    const value = realCrypto.randomBytes(size);
    drawn.push({ size, value });
    return value;
  }) as typeof realCrypto.randomBytes,
}));

const { default: request } = await import('supertest');
const { DataSource } = await import('typeorm');
const { Session } = await import('../../src/index.js');
const { createPasswordTestApp, freshEmail, GOOD_PASSWORD, sessionCookie } =
  await import('../apps/password-test-app.js');
const { testDatabases } = await import('../helpers/databases.js');

const sqlite = testDatabases().find((db) => db.name === 'sqlite')!;
const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

describe.each(['jwt', 'database'] as const)('session tokens come from crypto.randomBytes (%s strategy)', (strategy) => {
  let database: Awaited<ReturnType<typeof sqlite.create>>;
  let app: Awaited<ReturnType<typeof createPasswordTestApp>>['app'];

  beforeAll(async () => {
    database = await sqlite.create();
    ({ app } = await createPasswordTestApp({
      database: database.options,
      auth: { session: { strategy, cookieOptions: { secure: false } } },
    }));
  });

  afterAll(async () => {
    await app?.close();
    await database?.drop();
  });

  it('stores the SHA-256 of 32 bytes drawn from crypto.randomBytes for that very sign-in', async () => {
    const email = freshEmail('random');
    await request(app.getHttpServer()).post('/auth/sign-up').send({ email, password: GOOD_PASSWORD }).expect(201);
    const before = drawn.length;
    const res = await request(app.getHttpServer())
      .post('/auth/sign-in')
      .send({ method: 'email', email, password: GOOD_PASSWORD })
      .expect(200);
    const during = drawn.slice(before);

    const row = await app.get(DataSource).getRepository(Session).findOneByOrFail({ id: res.body.session.id });
    const source = during.filter(({ value }) => sha256(value.toString('base64url')) === row.tokenHash);
    expect(source).toHaveLength(1);
    expect(source[0].size).toBe(32);
    if (strategy === 'database') {
      // The cookie carries exactly those bytes, base64url-encoded; the row never does.
      expect(sessionCookie(res).split('=')[1]).toBe(source[0].value.toString('base64url'));
    }
  });
});
