import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { Verification } from '../../src/index.js';
import { BACKUP_CODE_POLICY, twoFactorBudgetScope } from '../../src/two-factor/two-factor.constants.js';
import { VerificationService } from '../../src/verification/verification.service.js';
import { expectErrorBody, freshEmail, GOOD_PASSWORD, sessionCookie } from '../apps/password-test-app.js';
import {
  cookieFrom,
  createTwoFactorTestApp,
  enrolAuthenticator,
  PENDING_COOKIE,
  TWO_FACTOR_APP_URL,
} from '../apps/two-factor-test-app.js';
import { type TestDatabase, testDatabases } from '../helpers/databases.js';

const ORIGIN = { Origin: TWO_FACTOR_APP_URL };
/** SECURITY-CHECKLIST T3: each backup code carries at least this much entropy. */
const MIN_BITS = 50;

/**
 * The backup-code format (SECURITY-CHECKLIST T3): ten codes of at least 50 bits each, typed with
 * any spaces and dashes; codes of an earlier build (the slot and ten digits) keep working until the
 * set is regenerated.
 */
describe.each(testDatabases())('backup codes on $name', (db: TestDatabase) => {
  let database: Awaited<ReturnType<TestDatabase['create']>>;
  let app: INestApplication;

  const post = (path: string, cookie?: string) => {
    const req = request(app.getHttpServer()).post(path).set(ORIGIN);
    return cookie === undefined ? req : req.set('Cookie', cookie);
  };

  /** A new account with an active authenticator: its email, session, user id and backup codes. */
  async function enrolled() {
    const email = freshEmail('backup');
    const signedUp = await post('/auth/sign-up').send({ email, password: GOOD_PASSWORD }).expect(201);
    const cookie = sessionCookie(signedUp);
    const { backupCodes } = await enrolAuthenticator(app, cookie);
    return { email, cookie, userId: signedUp.body.user.id as string, backupCodes };
  }

  /** A password sign-in that stops at the second factor: the pending cookie. */
  async function pending(email: string): Promise<string> {
    const res = await post('/auth/sign-in').send({ method: 'email', email, password: GOOD_PASSWORD }).expect(200);
    return cookieFrom(res, PENDING_COOKIE)!;
  }

  const verify = (cookie: string, backupCode: string) => post('/auth/two-factor/verify', cookie).send({ backupCode });

  /** The random digits of a code and the entropy they carry: the first digit is the (public) slot. */
  function entropy(code: string): { slot: string; random: string; bits: number } {
    const digits = code.replace(/-/g, '');
    const random = digits.slice(1);
    return { slot: digits[0], random, bits: random.length * Math.log2(10) };
  }

  beforeAll(async () => {
    database = await db.create();
    ({ app } = await createTwoFactorTestApp(database.options));
  });

  afterAll(async () => {
    await app?.close();
    await database?.drop();
  });

  it('issues ten distinct codes, one per slot digit, each with at least 50 random bits; a new set too', async () => {
    const { cookie, userId, backupCodes } = await enrolled();
    const regenerated = (await post('/auth/two-factor/backup-codes', cookie).expect(200)).body.backupCodes as string[];
    for (const set of [backupCodes, regenerated]) {
      expect(set).toHaveLength(10);
      expect(new Set(set).size).toBe(10);
      expect(set.map((code) => entropy(code).slot).sort()).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
      for (const code of set) {
        // Groups of six for reading: the slot digit and 17 random digits (56 bits).
        expect(code).toMatch(/^[0-9]{6}-[0-9]{6}-[0-9]{6}$/);
        expect(entropy(code).random).toMatch(/^[0-9]{17}$/);
        expect(entropy(code).bits).toBeGreaterThanOrEqual(MIN_BITS);
      }
    }
    expect(new Set(regenerated.map((code) => entropy(code).random)).size).toBe(10);
    for (const code of regenerated) expect(backupCodes).not.toContain(code);

    // Ten rows, one per slot, each an HMAC (never the digits).
    const rows = await app.get(DataSource).getRepository(Verification).findBy({ type: BACKUP_CODE_POLICY.type });
    const mine = rows.filter((row) => row.identifier.startsWith(`${userId}:`));
    expect(mine.map((row) => row.identifier).sort()).toEqual([...Array(10).keys()].map((slot) => `${userId}:${slot}`));
    for (const row of mine) {
      expect(row.valueHash).toMatch(/^[0-9a-f]{64}$/);
      for (const code of regenerated) expect(row.valueHash).not.toContain(entropy(code).random);
    }
  });

  it('takes a code typed with spaces, dashes, other groupings or none; each works once, however typed', async () => {
    const { email, backupCodes } = await enrolled();
    const digits = (i: number) => backupCodes[i].replace(/-/g, '');
    const typings = [
      backupCodes[0].replace(/-/g, ' '),
      digits(1),
      ` ${digits(2).replace(/(\d{4})(?=\d)/g, '$1-')} `,
      digits(3).replace(/(\d{3})(?=\d)/g, '$1 '),
    ];
    for (const typed of typings) {
      const cookie = await pending(email);
      const done = await verify(cookie, typed).expect(200);
      expect(cookieFrom(done, 'auth_session')).toBeDefined();
    }
    // Used: the same code in its shown form is refused.
    const cookie = await pending(email);
    for (const i of [0, 1, 2, 3]) expectErrorBody(await verify(cookie, backupCodes[i]), 400, 'TWO_FACTOR_INVALID');
  });

  it('refuses a code missing a digit or with one too many, and the right code still works', async () => {
    const { email, backupCodes } = await enrolled();
    const code = backupCodes[6];
    const cookie = await pending(email);
    expectErrorBody(await verify(cookie, code.slice(0, -1)), 400, 'TWO_FACTOR_INVALID');
    expectErrorBody(await verify(cookie, `${code}0`), 400, 'TWO_FACTOR_INVALID');
    expectErrorBody(
      await verify(cookie, `${code.slice(0, -1)}${(Number(code.at(-1)) + 1) % 10}`),
      400,
      'TWO_FACTOR_INVALID',
    );
    await verify(cookie, code).expect(200);
  });

  it('keeps an earlier build’s code (slot and ten digits) working once, until the set is regenerated', async () => {
    const { email, cookie, userId, backupCodes } = await enrolled();
    // What an earlier build left in two slots: the same type and HMAC, ten digits after the slot.
    const earlier = { ...BACKUP_CODE_POLICY, length: 10 };
    const old: string[] = [];
    for (const slot of [7, 8]) {
      await app
        .get(VerificationService)
        .issue(
          earlier,
          { identifier: `${userId}:${slot}`, budgetScope: twoFactorBudgetScope(userId) },
          { deliver: ({ secret }) => void old.push(`${slot}${secret.slice(0, 4)}-${secret.slice(4)}`) },
        );
    }
    expect(old[0]).toMatch(/^7[0-9]{4}-[0-9]{6}$/);

    const first = await pending(email);
    await verify(first, old[0]).expect(200);
    const second = await pending(email);
    expectErrorBody(await verify(second, old[0]), 400, 'TWO_FACTOR_INVALID');
    // The new codes of the other slots are untouched.
    await verify(second, backupCodes[2]).expect(200);

    // Regenerating voids the old code with the rest of the set.
    await post('/auth/two-factor/backup-codes', cookie).expect(200);
    expectErrorBody(await verify(await pending(email), old[1]), 400, 'TWO_FACTOR_INVALID');
  });
});
