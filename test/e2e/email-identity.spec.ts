import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { User } from '../../src/index.js';
import { createPasswordTestApp, expectErrorBody, GOOD_PASSWORD, OTHER_PASSWORD } from '../apps/password-test-app.js';
import { type TestDatabase, testDatabases } from '../helpers/databases.js';

let counter = 0;
/** A unique local part for one test, on the given domain. */
function address(domain: string): string {
  counter += 1;
  return `idn-${process.pid}-${counter}-${Date.now().toString(36)}@${domain}`;
}

describe.each(testDatabases())('email identity and sign-up enumeration on $name', (db: TestDatabase) => {
  let database: Awaited<ReturnType<TestDatabase['create']>>;
  let app: INestApplication;

  const http = () => request(app.getHttpServer());
  const signUp = (body: Record<string, unknown>) => http().post('/auth/sign-up').send(body);
  const signIn = (email: string, password: string) =>
    http().post('/auth/sign-in').send({ method: 'email', email, password });

  beforeAll(async () => {
    database = await db.create();
    ({ app } = await createPasswordTestApp({ database: database.options }));
  });

  afterAll(async () => {
    await app?.close();
    await database?.drop();
  });

  describe('IDNA: a Unicode domain and its punycode form are one account', () => {
    it('signs up with a@bücher.de and signs in with the xn-- form (and the reverse refuses a second account)', async () => {
      const unicode = address('BÜCHER.de');
      const local = unicode.slice(0, unicode.indexOf('@'));
      const created = await signUp({ email: unicode, password: GOOD_PASSWORD }).expect(201);
      expect(created.body.user.email).toBe(`${local}@bücher.de`);

      const viaPunycode = await signIn(`${local}@xn--bcher-kva.de`, GOOD_PASSWORD).expect(200);
      expect(viaPunycode.body.user.id).toBe(created.body.user.id);
      expectErrorBody(
        await signUp({ email: `${local}@XN--BCHER-KVA.DE`, password: OTHER_PASSWORD }),
        409,
        'USER_ALREADY_EXISTS',
      );
      expect(
        await app
          .get(DataSource)
          .getRepository(User)
          .countBy({ email: `${local}@bücher.de` }),
      ).toBe(1);
      expect(
        await app
          .get(DataSource)
          .getRepository(User)
          .countBy({ email: `${local}@xn--bcher-kva.de` }),
      ).toBe(0);
    });

    it('signs up with the punycode form of an Arabic domain and signs in with its Unicode form', async () => {
      const punycode = address('xn--mgbh0fb.xn--mgberp4a5d4ar');
      const local = punycode.slice(0, punycode.indexOf('@'));
      const created = await signUp({ email: punycode, password: GOOD_PASSWORD }).expect(201);
      expect(created.body.user.email).toBe(`${local}@مثال.السعودية`);
      const viaUnicode = await signIn(`${local}@مثال.السعودية`, GOOD_PASSWORD).expect(200);
      expect(viaUnicode.body.user.id).toBe(created.body.user.id);
    });

    it('refuses an address whose punycode does not decode', async () => {
      expectErrorBody(await signUp({ email: address('xn--zz.de'), password: GOOD_PASSWORD }), 400, 'INVALID_EMAIL');
    });
  });

  describe('sign-up answers 409 for a taken address, limited per address whether it exists or not (P7)', () => {
    // rateLimit 'sign-up:identifier' default: 5 an hour per normalised address.
    it('a taken address gets 409 up to its fifth attempt, then the same 429 as any address over the limit', async () => {
      const taken = address('example.com');
      await signUp({ email: taken, password: GOOD_PASSWORD }).expect(201);
      for (let i = 0; i < 4; i++) {
        expectErrorBody(await signUp({ email: taken, password: OTHER_PASSWORD }), 409, 'USER_ALREADY_EXISTS');
      }
      const takenOverLimit = await signUp({ email: taken, password: OTHER_PASSWORD });
      expectErrorBody(takenOverLimit, 429, 'RATE_LIMITED');
      expect(takenOverLimit.headers['retry-after']).toEqual(expect.stringMatching(/^\d+$/));
    });

    it('a sign-up refused for its password spends nothing of the address limit (issue 11): the sixth, valid one creates', async () => {
      const free = address('example.com');
      for (let i = 0; i < 5; i++) {
        expectErrorBody(await signUp({ email: free, password: 'password' }), 400, 'PASSWORD_TOO_COMMON');
      }
      await signUp({ email: free, password: OTHER_PASSWORD }).expect(201);
      expect(await app.get(DataSource).getRepository(User).countBy({ email: free })).toBe(1);
    });

    it('counts the Unicode and punycode forms of one address against the same limit', async () => {
      const unicode = address('bücher.de');
      const local = unicode.slice(0, unicode.indexOf('@'));
      const punycode = `${local}@xn--bcher-kva.de`;
      await signUp({ email: unicode, password: GOOD_PASSWORD }).expect(201);
      for (const email of [punycode, unicode, punycode, unicode]) {
        expectErrorBody(await signUp({ email, password: OTHER_PASSWORD }), 409, 'USER_ALREADY_EXISTS');
      }
      expectErrorBody(await signUp({ email: punycode, password: OTHER_PASSWORD }), 429, 'RATE_LIMITED');
    });
  });
});
