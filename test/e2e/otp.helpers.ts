import { createHmac, hkdfSync, randomInt } from 'node:crypto';
import { afterAll, afterEach, beforeAll, expect, jest } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { Redis } from 'ioredis';
import request, { type Response } from 'supertest';
import { DataSource } from 'typeorm';
import { Session } from '../../src/entities/session.entity.js';
import { User } from '../../src/entities/user.entity.js';
import { Verification } from '../../src/entities/verification.entity.js';
import type { TestDatabase } from '../helpers/databases.js';

/** A fresh Saudi mobile number: the way a person types it and its E.164 form. */
export function saudiMobile(): { local: string; e164: string } {
  const rest = String(randomInt(0, 10_000_000)).padStart(7, '0');
  return { local: `055${rest}`, e164: `+96655${rest}` };
}

let ipCounter = randomInt(0, 1 << 20);
/** A client address no other scenario uses, so per-IP limits of one test never touch another. */
export function uniqueIp(): string {
  ipCounter += 1;
  return `10.${(ipCounter >> 16) & 255}.${(ipCounter >> 8) & 255}.${ipCounter & 255}`;
}

/** HTTP calls of one client (one address, given with X-Forwarded-For; the test apps trust the proxy). */
export function otpClient(app: INestApplication, ip = uniqueIp()) {
  const http = () => request(app.getHttpServer());
  return {
    ip,
    send: (phone: unknown, headers: Record<string, string> = {}) =>
      http().post('/auth/otp/send').set('X-Forwarded-For', ip).set(headers).send({ method: 'phone', phone }),
    sendBody: (body: unknown) =>
      http()
        .post('/auth/otp/send')
        .set('X-Forwarded-For', ip)
        .send(body as object),
    verify: (phone: unknown, otp: unknown, extra: Record<string, unknown> = {}) =>
      http()
        .post('/auth/otp/verify')
        .set('X-Forwarded-For', ip)
        .send({ method: 'phone', phone, otp, ...extra }),
    verifyBody: (body: unknown) =>
      http()
        .post('/auth/otp/verify')
        .set('X-Forwarded-For', ip)
        .send(body as object),
    session: (cookie: string) => http().get('/auth/session').set('Cookie', cookie),
  };
}

/**
 * The same storage on a Redis database no other suite uses, emptied before the suite: its tests count
 * per prefix and globally (the daily budget), and suites in other Jest workers, or an earlier run within
 * the hour, would otherwise have counted there too. Memory storage is already per app.
 */
export function ownRedisDatabase<S extends { redis: string }>(
  storage: 'memory' | S | undefined,
  database: number,
): 'memory' | S | undefined {
  if (!storage || storage === 'memory') return storage;
  const url = new URL(storage.redis);
  url.pathname = `/${database}`;
  return { ...storage, redis: url.toString() };
}

/** Empties the Redis database of `storage` (from {@link ownRedisDatabase}); nothing for memory. */
export async function emptyRedisDatabase(storage: 'memory' | { redis: string } | undefined): Promise<void> {
  if (!storage || storage === 'memory') return;
  const client = new Redis(storage.redis, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await client.connect();
    await client.flushdb();
  } finally {
    client.disconnect();
  }
}

let prefixCounter = randomInt(0, 10_000);
/** A six-digit number prefix (`55` + four digits) not handed out before in this suite file. */
export function uniquePrefix(): string {
  prefixCounter = (prefixCounter + 1) % 10_000;
  return `55${String(prefixCounter).padStart(4, '0')}`;
}

/** The SPEC's error body exactly: `{ error: { code, en, ar } }`, with real English and Arabic text. */
export function expectError(res: Response, status: number, code: string): void {
  // `field` (SPEC §9): only on INVALID_INPUT, naming the field at fault in both texts.
  const field: unknown = res.body?.error?.field;
  const named = code === 'INVALID_INPUT' && typeof field === 'string' ? { field } : {};
  expect({ status: res.status, body: res.body }).toStrictEqual({
    status,
    body: { error: { code, en: expect.any(String), ar: expect.any(String), ...named } },
  });
  if (typeof field === 'string')
    expect([res.body.error.en, res.body.error.ar].map((t: string) => t.includes(field))).toEqual([true, true]);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect((res.body.error.en as string).trim().length).toBeGreaterThan(0);
  expect(res.body.error.ar).toMatch(/[\u0600-\u06FF]/);
}

/** A 429 with the error body and a sensible `Retry-After` (whole seconds, at most `maxSeconds`). */
export function expectTooMany(res: Response, code: string, maxSeconds: number): number {
  expectError(res, 429, code);
  const retryAfter = Number(res.headers['retry-after']);
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(maxSeconds);
  return retryAfter;
}

/** `name=value` of the session cookie a response set. */
export function sessionCookie(res: Response): string {
  const header = res.headers['set-cookie'] as unknown as string[] | undefined;
  expect(header).toHaveLength(1);
  return header![0].split(';')[0];
}

/** A code of `length` digits that differs from `code`. */
export function wrongCode(code: string, seed = 1): string {
  const n = (Number(code) + seed) % 10 ** code.length;
  return String(n).padStart(code.length, '0');
}

/** `code` written with Arabic-Indic (٠-٩) or Eastern Arabic-Indic (۰-۹) digits. */
export function arabicDigits(code: string, base = 0x0660): string {
  return [...code].map((d) => String.fromCodePoint(base + Number(d))).join('');
}

/** `code` written with fullwidth digits (０-９). */
export function fullwidthDigits(code: string): string {
  return [...code].map((d) => String.fromCodePoint(0xff10 + Number(d))).join('');
}

/**
 * The HMAC key of stored codes, derived independently of the library: HKDF-SHA-256 of the secret
 * with the library's public salt and the purpose `verification-code`, never the raw secret.
 */
export function codeKey(secret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, 'arraf-auth/hkdf/v1', 'arraf-auth:verification-code', 32));
}

/** The stored hash of an SMS code (type `otp:<purpose>`), computed independently of the library. */
export function expectedHash(secret: string, purpose: string, e164: string, code: string): string {
  return createHmac('sha256', codeKey(secret))
    .update(`arraf-auth:verification|otp:${purpose}|${e164}|${code}`)
    .digest('hex');
}

/** Repositories of the app's database. */
export function tables(app: INestApplication) {
  const dataSource = app.get(DataSource);
  return {
    verifications: dataSource.getRepository(Verification),
    users: dataSource.getRepository(User),
    sessions: dataSource.getRepository(Session),
  };
}

/** What the database holds for a number: its codes, users and their sessions. */
export async function storedFor(app: INestApplication, e164: string) {
  const { verifications, users, sessions } = tables(app);
  const userRows = await users.findBy({ phone: e164 });
  const sessionRows = userRows.length ? await sessions.findBy(userRows.map((u) => ({ userId: u.id }))) : [];
  return { codes: await verifications.findBy({ identifier: e164 }), users: userRows, sessions: sessionRows };
}

/**
 * The lifecycle of a describe block that starts apps on one fresh database: the database is created
 * before its tests and dropped after them, every app handed to `track` is closed, and spies are
 * restored after each test. `options()` is the database's connection options.
 */
export function otpSuite(db: TestDatabase) {
  let database: Awaited<ReturnType<TestDatabase['create']>> | undefined;
  const apps: INestApplication[] = [];
  beforeAll(async () => {
    database = await db.create();
  });
  afterEach(() => {
    jest.restoreAllMocks();
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    await database?.drop();
  });
  return {
    options: () => database!.options,
    track: <T extends { app: INestApplication }>(started: T): T => {
      apps.push(started.app);
      return started;
    },
  };
}
