import 'reflect-metadata';
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import request from 'supertest';
import { DataSource, In } from 'typeorm';
import { Session } from '../../src/entities/session.entity.js';
import { User } from '../../src/entities/user.entity.js';
import { Verification } from '../../src/entities/verification.entity.js';
import type { ArrafAuthSessionOptions } from '../../src/options/arraf-auth-options.interface.js';
import { SessionService } from '../../src/session/session.service.js';
import { createTestSession, type TestSession } from '../../src/testing/index.js';
import { createTestApp, type Platform, TEST_SECRET, type TestAppOptions } from '../apps/test-app.js';
import { type TestDatabase, testDatabases } from '../helpers/databases.js';
import {
  decodeJwt,
  expectError,
  findSessionRow,
  onlySetCookie,
  QueryLog,
  SESSION_JWT_TYP,
  sessionJwtKey,
  sessionRepository,
  setCookies,
  sha256Hex,
  travel,
  uniqueEmail,
} from '../helpers/session-test-utils.js';
import { sameSite } from '../helpers/same-site.js';

type Strategy = 'jwt' | 'database';
const STRATEGIES: Strategy[] = ['jwt', 'database'];
const HOST_COOKIE = '__Host-auth_session';
const HOUR = 3600;
const DAY = 86_400;
const SECRET_B = `rotated-${randomBytes(24).toString('hex')}`;
const SECRET_C = `unknown-${randomBytes(24).toString('hex')}`;
const PLATFORMS: Platform[] = ['express', 'fastify'];
/** Every configured database, on each platform. */
const CASES = testDatabases().flatMap((db) => PLATFORMS.map((platform) => ({ db, platform, name: db.name })));

/** Seconds from now until `date`. */
function secondsUntil(date: Date): number {
  return (date.getTime() - Date.now()) / 1000;
}

/** GET /me (a route behind SessionGuard) with `cookie`. */
function me(app: INestApplication, cookie: string) {
  return request(app.getHttpServer()).get('/me').set('Cookie', cookie);
}

async function expectSignedIn(app: INestApplication, session: Pick<TestSession, 'cookie' | 'session'>): Promise<void> {
  const res = await me(app, session.cookie);
  expect({ status: res.status, sessionId: res.body.sessionId }).toEqual({ status: 200, sessionId: session.session.id });
}

async function expectRejected(app: INestApplication, cookie: string): Promise<void> {
  expectError(await me(app, cookie), 401, 'UNAUTHENTICATED');
}

describe.each(CASES)('sessions on $name ($platform)', ({ db, platform }: { db: TestDatabase; platform: Platform }) => {
  let database: Awaited<ReturnType<TestDatabase['create']>>;

  beforeAll(async () => {
    database = await db.create();
  });

  afterAll(async () => {
    await database?.drop();
  });

  describe.each(STRATEGIES)("strategy '%s'", (strategy: Strategy) => {
    const apps: INestApplication[] = [];

    /** Starts an app on this suite's database with `strategy` and the given session options. */
    async function start(
      session: ArrafAuthSessionOptions = {},
      extra: Omit<TestAppOptions, 'database' | 'auth'> & { secret?: string | string[] } = {},
    ): Promise<INestApplication> {
      const { secret, ...rest } = extra;
      const app = await createTestApp({
        database: database.options,
        auth: { ...(secret ? { secret } : {}), session: { strategy, ...session } },
        platform,
        ...rest,
      });
      apps.push(app);
      return app;
    }

    /** Defaults except the strategy: 30-day lifetime, renewal after 1 day, secure host-only cookie. */
    let defaults: INestApplication;
    /** expiresIn 1 h, updateAge 1 min, SQL recorded. */
    let short: INestApplication;
    const shortLog = new QueryLog();

    beforeAll(async () => {
      defaults = await start();
      short = await start({ expiresIn: '1h', updateAge: '1m' }, { onQuery: shortLog.onQuery });
    });

    afterAll(async () => {
      for (const app of apps.reverse()) await app.close();
    });

    describe('cookie', () => {
      it('re-issues the cookie as __Host-auth_session with HttpOnly, Secure, Path=/, SameSite=Lax, no Domain and Max-Age of the remaining lifetime', async () => {
        const signedIn = await createTestSession(short, { email: uniqueEmail() });
        await travel(short, signedIn.session.id, 10 * 60);

        const res = await me(short, signedIn.cookie);
        expect(res.status).toBe(200);
        const cookie = onlySetCookie(res);
        expect(cookie.name).toBe(HOST_COOKIE);
        expect(cookie.attributes).toStrictEqual({
          path: '/',
          'max-age': expect.stringMatching(/^\d+$/),
          httponly: true,
          secure: true,
          samesite: 'Lax',
        });
        const maxAge = Number(cookie.attributes['max-age']);
        const row = await findSessionRow(short, signedIn.session.id);
        expect(maxAge).toBeGreaterThanOrEqual(HOUR - 5);
        expect(maxAge).toBeLessThanOrEqual(HOUR);
        expect(Math.abs(maxAge - secondsUntil(row!.expiresAt))).toBeLessThanOrEqual(2);
      });

      it('clears the cookie on sign-out with Max-Age=0 and the same name, path and flags', async () => {
        const signedIn = await createTestSession(defaults, { email: uniqueEmail() });
        const res = await request(defaults.getHttpServer())
          .post('/auth/sign-out')
          .set('Cookie', signedIn.cookie)
          .set(sameSite());
        expect({ status: res.status, body: res.body }).toStrictEqual({ status: 200, body: { success: true } });
        const cookie = onlySetCookie(res);
        expect(cookie).toMatchObject({ name: HOST_COOKIE, value: '' });
        expect(cookie.attributes).toMatchObject({
          'max-age': '0',
          path: '/',
          httponly: true,
          secure: true,
          samesite: 'Lax',
        });
        expect(cookie.attributes.domain).toBeUndefined();
      });

      it('names the cookie auth_session, without Secure, when secure is false', async () => {
        const app = await start({ cookieOptions: { secure: false } });
        const signedIn = await createTestSession(app, { email: uniqueEmail() });
        expect(signedIn.cookie.startsWith('auth_session=')).toBe(true);
        await travel(app, signedIn.session.id, 2 * DAY);

        const renewed = onlySetCookie(await me(app, signedIn.cookie).expect(200));
        expect(renewed.name).toBe('auth_session');
        expect(renewed.attributes.secure).toBeUndefined();
        expect(renewed.attributes).toMatchObject({ httponly: true, path: '/', samesite: 'Lax' });

        // The prefixed name is a different cookie and authenticates nothing here.
        await expectRejected(app, `${HOST_COOKIE}=${signedIn.token}`);

        const cleared = onlySetCookie(
          await request(app.getHttpServer())
            .post('/auth/sign-out')
            .set('Cookie', signedIn.cookie)
            .set(sameSite())
            .expect(200),
        );
        expect(cleared).toMatchObject({ name: 'auth_session', value: '' });
        expect(cleared.attributes['max-age']).toBe('0');
      });

      it('sets Domain and drops the __Host- prefix when a domain is configured', async () => {
        const app = await start({ cookieOptions: { domain: 'example.com' } });
        const signedIn = await createTestSession(app, { email: uniqueEmail() });
        expect(signedIn.cookie.startsWith('auth_session=')).toBe(true);
        await travel(app, signedIn.session.id, 2 * DAY);

        const renewed = onlySetCookie(await me(app, signedIn.cookie).expect(200));
        expect(renewed.name).toBe('auth_session');
        expect(renewed.attributes).toMatchObject({
          domain: 'example.com',
          secure: true,
          httponly: true,
          path: '/',
          samesite: 'Lax',
        });
        expect(Number(renewed.attributes['max-age'])).toBeGreaterThan(30 * DAY - 10);

        const cleared = onlySetCookie(
          await request(app.getHttpServer())
            .post('/auth/sign-out')
            .set('Cookie', signedIn.cookie)
            .set(sameSite())
            .expect(200),
        );
        expect(cleared).toMatchObject({ name: 'auth_session', value: '' });
        expect(cleared.attributes).toMatchObject({ domain: 'example.com', 'max-age': '0' });
      });

      it('writes the same cookie attributes on Fastify', async () => {
        const app = await start({}, { platform: 'fastify' });
        const signedIn = await createTestSession(app, { email: uniqueEmail() });
        await travel(app, signedIn.session.id, 2 * DAY);

        const renewed = onlySetCookie(await me(app, signedIn.cookie).expect(200));
        expect(renewed.name).toBe(HOST_COOKIE);
        expect(renewed.attributes).toStrictEqual({
          path: '/',
          'max-age': expect.stringMatching(/^\d+$/),
          httponly: true,
          secure: true,
          samesite: 'Lax',
        });

        const cleared = onlySetCookie(
          await request(app.getHttpServer())
            .post('/auth/sign-out')
            .set('Cookie', signedIn.cookie)
            .set(sameSite())
            .expect(200),
        );
        expect(cleared).toMatchObject({ name: HOST_COOKIE, value: '' });
        expect(cleared.attributes['max-age']).toBe('0');
        await expectRejected(app, signedIn.cookie);
      });

      it('keeps cookie name + value under 4096 bytes for the longest email', async () => {
        const email = `${randomBytes(32).toString('hex')}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(57)}.com`;
        expect(email).toHaveLength(254);
        const signedIn = await createTestSession(defaults, { email, name: 'ن'.repeat(255) });
        expect(Buffer.byteLength(signedIn.cookie)).toBeLessThan(4096);
        await expectSignedIn(defaults, signedIn);
      });
    });

    describe('storage', () => {
      it('stores no column equal to or containing the cookie value; tokenHash is a SHA-256 hex digest', async () => {
        const signedIn = await createTestSession(defaults, { email: uniqueEmail() });
        const dataSource = defaults.get(DataSource);
        const table = dataSource.driver.escape(dataSource.getMetadata(Session).tablePath);
        const rows: Record<string, unknown>[] = await dataSource.query(`SELECT * FROM ${table}`);
        expect(rows.length).toBeGreaterThan(0);
        const secrets = [signedIn.token];
        if (strategy === 'jwt') secrets.push(signedIn.token.split('.')[2]);
        for (const row of rows) {
          for (const value of Object.values(row)) {
            for (const secret of secrets) expect(String(value)).not.toContain(secret);
          }
        }

        const row = rows.find((r) => r.id === signedIn.session.id)!;
        expect(row.tokenHash).toMatch(/^[0-9a-f]{64}$/);
        if (strategy === 'database') {
          expect(row.tokenHash).toBe(sha256Hex(signedIn.token));
        } else {
          // The JWT only names the session; it carries no token and is not what is hashed.
          expect(row.tokenHash).not.toBe(sha256Hex(signedIn.token));
          const { header, payload } = decodeJwt(signedIn.token);
          expect(header).toMatchObject({ alg: 'HS256', typ: SESSION_JWT_TYP, kid: expect.any(String) });
          expect(Object.keys(payload).sort()).toEqual(['aud', 'email', 'exp', 'iat', 'sid', 'sub']);
          expect(payload).toMatchObject({
            sub: signedIn.user.id,
            sid: signedIn.session.id,
            email: signedIn.user.email,
          });
        }
      });

      it('creates 200 sessions with distinct 256-bit tokens and distinct hashes', async () => {
        const { user } = await createTestSession(defaults, { email: uniqueEmail() });
        const service = defaults.get(SessionService);
        const created = [];
        for (let i = 0; i < 200; i++) created.push(await service.createSession(user));

        const values = created.map((c) => c.cookieValue);
        expect(new Set(values).size).toBe(200);
        const rows = await sessionRepository(defaults).findBy({ id: In(created.map((c) => c.session.id)) });
        expect(rows).toHaveLength(200);
        expect(new Set(rows.map((r) => r.tokenHash)).size).toBe(200);
        if (strategy === 'database') {
          for (const value of values) {
            expect(value).toMatch(/^[A-Za-z0-9_-]{43}$/);
            expect(Buffer.from(value, 'base64url')).toHaveLength(32);
          }
          const hashById = new Map(rows.map((r) => [r.id, r.tokenHash]));
          for (const c of created) expect(hashById.get(c.session.id)).toBe(sha256Hex(c.cookieValue));
        } else {
          expect(new Set(values.map((v) => decodeJwt(v).payload.sid)).size).toBe(200);
        }
      });

      it('sets the row expiry and cookie lifetime from expiresIn', async () => {
        const signedIn = await createTestSession(short, { email: uniqueEmail() });
        const row = await findSessionRow(short, signedIn.session.id);
        expect(secondsUntil(row!.expiresAt)).toBeGreaterThan(HOUR - 10);
        expect(secondsUntil(row!.expiresAt)).toBeLessThanOrEqual(HOUR + 1);
        if (strategy === 'jwt') {
          const exp = decodeJwt(signedIn.token).payload.exp as number;
          expect(Math.abs(exp - row!.expiresAt.getTime() / 1000)).toBeLessThanOrEqual(1);
        }
      });

      it('defaults to a 30-day lifetime when expiresIn is not set', async () => {
        const signedIn = await createTestSession(defaults, { email: uniqueEmail() });
        const row = await findSessionRow(defaults, signedIn.session.id);
        expect(secondsUntil(row!.expiresAt)).toBeGreaterThan(30 * DAY - 10);
        expect(secondsUntil(row!.expiresAt)).toBeLessThanOrEqual(30 * DAY + 1);
      });
    });

    describe('sign-in', () => {
      it('issues a new token at every sign-in, and both sessions stay valid', async () => {
        const first = await createTestSession(defaults, { email: uniqueEmail() });
        const second = await createTestSession(defaults, first.user.id);
        expect(second.token).not.toBe(first.token);
        expect(second.session.id).not.toBe(first.session.id);
        await expectSignedIn(defaults, first);
        await expectSignedIn(defaults, second);
      });

      it('rejects a planted or unknown cookie value with 401, and a sign-in never adopts it', async () => {
        const planted =
          strategy === 'database'
            ? randomBytes(32).toString('base64url')
            : `${Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url')}.${Buffer.from('{}').toString('base64url')}.${randomBytes(32).toString('base64url')}`;
        const plantedCookie = `${HOST_COOKIE}=${planted}`;
        await expectRejected(defaults, plantedCookie);

        const signedIn = await createTestSession(defaults, { email: uniqueEmail() });
        expect(signedIn.token).not.toBe(planted);
        await expectRejected(defaults, plantedCookie);
        await expectSignedIn(defaults, signedIn);
        expect(await sessionRepository(defaults).countBy({ tokenHash: sha256Hex(planted) })).toBe(0);
      });
    });

    describe('revocation', () => {
      it('sign-out deletes the session: replaying the old cookie gets 401, other sessions stay', async () => {
        const signedIn = await createTestSession(defaults, { email: uniqueEmail() });
        const other = await createTestSession(defaults, signedIn.user.id);
        await request(defaults.getHttpServer())
          .post('/auth/sign-out')
          .set('Cookie', signedIn.cookie)
          .set(sameSite())
          .expect(200, { success: true });

        expect(await findSessionRow(defaults, signedIn.session.id)).toBeNull();
        await expectRejected(defaults, signedIn.cookie);
        await expectSignedIn(defaults, other);
        if (strategy === 'jwt') {
          // The replayed JWT is still correctly signed and unexpired: only the row decides.
          const payload = new JwtService().verify(signedIn.token, {
            secret: sessionJwtKey(TEST_SECRET),
            algorithms: ['HS256'],
          });
          expect(payload.sid).toBe(signedIn.session.id);
        }
      });

      it('a session revoked on the server gets 401 at the next request', async () => {
        const signedIn = await createTestSession(defaults, { email: uniqueEmail() });
        await expectSignedIn(defaults, signedIn);
        expect(await defaults.get(SessionService).revokeSession(signedIn.session.id)).toBe(true);
        await expectRejected(defaults, signedIn.cookie);
      });

      it("revokeUserSessions ends every session of the user and no one else's", async () => {
        const first = await createTestSession(defaults, { email: uniqueEmail() });
        const second = await createTestSession(defaults, first.user.id);
        const third = await createTestSession(defaults, first.user.id);
        const stranger = await createTestSession(defaults, { email: uniqueEmail() });

        expect(await defaults.get(SessionService).revokeUserSessions(first.user.id)).toBe(3);
        for (const s of [first, second, third]) await expectRejected(defaults, s.cookie);
        await expectSignedIn(defaults, stranger);
      });
    });

    describe('expiry', () => {
      it(
        strategy === 'jwt'
          ? 'rejects a JWT whose exp is still valid when its row has expired, and deletes the row'
          : 'rejects an expired session with 401 and deletes its row',
        async () => {
          const signedIn = await createTestSession(defaults, { email: uniqueEmail() });
          await sessionRepository(defaults).update(
            { id: signedIn.session.id },
            { expiresAt: new Date(Date.now() - 1000) },
          );
          if (strategy === 'jwt')
            expect(decodeJwt(signedIn.token).payload.exp).toBeGreaterThan(Date.now() / 1000 + DAY);

          await expectRejected(defaults, signedIn.cookie);
          expect(await findSessionRow(defaults, signedIn.session.id)).toBeNull();
        },
      );
    });

    describe('sliding renewal', () => {
      /** Same secret and database, expiresIn 50 min: its sessions look like `short`'s issued 10 min ago. */
      let earlier: INestApplication;

      beforeAll(async () => {
        earlier = await start({ expiresIn: '50m', updateAge: '1m' });
      });

      /**
       * A session as `short` would have issued it ten minutes ago: row and JWT `exp` end in 50 min.
       * (Moving only the row back cannot age a JWT, which carries its own `exp`.)
       */
      async function signedInTenMinutesAgo(): Promise<TestSession> {
        const signedIn = await createTestSession(earlier, { email: uniqueEmail() });
        const tenMinutesAgo = new Date(Date.now() - 10 * 60_000);
        await sessionRepository(short).update(
          { id: signedIn.session.id },
          { createdAt: tenMinutesAgo, lastActiveAt: tenMinutesAgo },
        );
        return signedIn;
      }

      it('neither renews nor writes before updateAge has passed', async () => {
        const signedIn = await createTestSession(short, { email: uniqueEmail() });
        await travel(short, signedIn.session.id, 30);
        const before = await findSessionRow(short, signedIn.session.id);
        shortLog.reset();

        const res = await me(short, signedIn.cookie).expect(200);
        expect(setCookies(res)).toEqual([]);
        expect(shortLog.count('UPDATE', 'sessions')).toBe(0);
        expect((await findSessionRow(short, signedIn.session.id))!.expiresAt.getTime()).toBe(
          before!.expiresAt.getTime(),
        );
      });

      it('after updateAge, extends expiresAt in the database and re-issues the cookie once', async () => {
        const signedIn = await signedInTenMinutesAgo();
        const before = await findSessionRow(short, signedIn.session.id);
        shortLog.reset();
        const res = await me(short, signedIn.cookie).expect(200);
        const cookie = onlySetCookie(res);
        expect(shortLog.count('UPDATE', 'sessions')).toBe(1);
        const after = await findSessionRow(short, signedIn.session.id);
        const extended = (after!.expiresAt.getTime() - before!.expiresAt.getTime()) / 1000;
        expect(extended).toBeGreaterThanOrEqual(598);
        expect(extended).toBeLessThanOrEqual(602);
        expect(Number(cookie.attributes['max-age'])).toBeGreaterThan(HOUR - 10);
        expect(Number(cookie.attributes['max-age'])).toBeLessThanOrEqual(HOUR);

        if (strategy === 'database') {
          expect(cookie.value).toBe(signedIn.token);
        } else {
          const exp = decodeJwt(cookie.value).payload.exp as number;
          expect(Math.abs(exp - after!.expiresAt.getTime() / 1000)).toBeLessThanOrEqual(1);
          expect(exp - (decodeJwt(signedIn.token).payload.exp as number)).toBeGreaterThanOrEqual(599);
        }
        // The next request, right after the renewal, neither renews nor writes again.
        shortLog.reset();
        const again = await me(short, `${cookie.name}=${cookie.value}`).expect(200);
        expect(again.body.sessionId).toBe(signedIn.session.id);
        expect(setCookies(again)).toEqual([]);
        expect(shortLog.count('UPDATE', 'sessions')).toBe(0);
      });

      it('re-issues the cookie from GET /auth/session as well', async () => {
        const signedIn = await createTestSession(short, { email: uniqueEmail() });
        await travel(short, signedIn.session.id, 10 * 60);
        const res = await request(short.getHttpServer())
          .get('/auth/session')
          .set('Cookie', signedIn.cookie)
          .expect(200);
        expect(res.body.session.id).toBe(signedIn.session.id);
        const cookie = onlySetCookie(res);
        expect(cookie.name).toBe(HOST_COOKIE);
        expect(Number(cookie.attributes['max-age'])).toBeGreaterThan(HOUR - 10);
      });
    });

    describe('idle timeout', () => {
      let idle: INestApplication;
      const idleLog = new QueryLog();

      beforeAll(async () => {
        idle = await start({ idleTimeout: '30m' }, { onQuery: idleLog.onQuery });
      });

      it('accepts a session idle for 29 minutes, and that activity restarts the idle clock', async () => {
        const signedIn = await createTestSession(idle, { email: uniqueEmail() });
        await travel(idle, signedIn.session.id, 29 * 60);
        idleLog.reset();
        await expectSignedIn(idle, signedIn);
        expect(idleLog.count('UPDATE', 'sessions')).toBe(1);
        const row = await findSessionRow(idle, signedIn.session.id);
        expect(Date.now() - row!.lastActiveAt.getTime()).toBeLessThan(5000);

        // 58 minutes after sign-in, but only 29 since the last request.
        await travel(idle, signedIn.session.id, 29 * 60);
        await expectSignedIn(idle, signedIn);
      });

      it('ends a session idle for 31 minutes with 401 and deletes its row', async () => {
        const signedIn = await createTestSession(idle, { email: uniqueEmail() });
        await travel(idle, signedIn.session.id, 31 * 60);
        await expectRejected(idle, signedIn.cookie);
        expect(await findSessionRow(idle, signedIn.session.id)).toBeNull();
      });

      it('writes the activity at most once a minute', async () => {
        const signedIn = await createTestSession(idle, { email: uniqueEmail() });
        await travel(idle, signedIn.session.id, 30);
        idleLog.reset();
        for (let i = 0; i < 3; i++) await expectSignedIn(idle, signedIn);
        expect(idleLog.count('UPDATE', 'sessions')).toBe(0);

        await travel(idle, signedIn.session.id, 31);
        idleLog.reset();
        for (let i = 0; i < 3; i++) await expectSignedIn(idle, signedIn);
        expect(idleLog.count('UPDATE', 'sessions')).toBe(1);
      });
    });

    describe('secret rotation', () => {
      let rotated: INestApplication;
      let before: TestSession;

      beforeAll(async () => {
        before = await createTestSession(defaults, { email: uniqueEmail() });
        // A restart with a new signing secret in front of the old one.
        rotated = await start({}, { secret: [SECRET_B, TEST_SECRET] });
      });

      it('keeps sessions created before the rotation valid after restarting with [B, A]', async () => {
        await expectSignedIn(rotated, before);
      });

      if (strategy === 'jwt') {
        it('signs new sessions with B: another kid, and an app that knows only A refuses them', async () => {
          const after = await createTestSession(rotated, { email: uniqueEmail() });
          expect(decodeJwt(after.token).header.kid).not.toBe(decodeJwt(before.token).header.kid);
          await expectSignedIn(rotated, after);
          await expectRejected(defaults, after.cookie);
          expect(await findSessionRow(defaults, after.session.id)).not.toBeNull();
        });

        it('rejects a JWT signed with a secret the app does not know, although its row exists', async () => {
          const stranger = await start({}, { secret: SECRET_C });
          const foreign = await createTestSession(stranger, { email: uniqueEmail() });
          await expectSignedIn(stranger, foreign);
          await expectRejected(defaults, foreign.cookie);
          await expectRejected(rotated, foreign.cookie);
        });
      } else {
        it('opaque tokens do not depend on the secret: sessions work on apps with other secrets', async () => {
          const after = await createTestSession(rotated, { email: uniqueEmail() });
          await expectSignedIn(rotated, after);
          await expectSignedIn(defaults, after);
        });
      }
    });

    describe('deleteExpired', () => {
      it('removes only expired sessions and verifications, in batches of batchSize', async () => {
        const service = short.get(SessionService);
        const dataSource = short.get(DataSource);
        await service.deleteExpired(); // whatever earlier tests left behind
        const user = await dataSource.getRepository(User).save({ id: randomUUID(), email: uniqueEmail() });
        const now = Date.now();
        const session = (expiresAt: number) => ({
          id: randomUUID(),
          userId: user.id,
          tokenHash: randomBytes(32).toString('hex'),
          expiresAt: new Date(expiresAt),
          lastActiveAt: new Date(now - 2 * DAY * 1000),
        });
        const verification = (expiresAt: number) => ({
          id: randomUUID(),
          identifier: uniqueEmail(),
          type: 'verify-email',
          valueHash: randomBytes(32).toString('hex'),
          expiresAt: new Date(expiresAt),
        });
        const expiredSessions = Array.from({ length: 25 }, (_, i) => session(now - (i + 1) * 60_000));
        const liveSessions = Array.from({ length: 3 }, () => session(now + HOUR * 1000));
        const expiredVerifications = Array.from({ length: 12 }, (_, i) => verification(now - (i + 1) * 60_000));
        const liveVerifications = Array.from({ length: 2 }, () => verification(now + HOUR * 1000));
        // Copies: a multi-row insert writes generated columns back into its arguments, and on some
        // drivers it matches them to the wrong objects (ids included).
        await dataSource.getRepository(Session).insert([...expiredSessions, ...liveSessions].map((r) => ({ ...r })));
        await dataSource
          .getRepository(Verification)
          .insert([...expiredVerifications, ...liveVerifications].map((r) => ({ ...r })));
        shortLog.reset();

        expect(await service.deleteExpired(10)).toEqual({ sessions: 25, verifications: 12 });
        expect(shortLog.count('DELETE', 'sessions')).toBe(3);
        expect(shortLog.count('DELETE', 'verifications')).toBe(2);
        const sessionIds = (await dataSource.getRepository(Session).findBy({ userId: user.id })).map((s) => s.id);
        expect(sessionIds.sort()).toEqual(liveSessions.map((s) => s.id).sort());
        const verificationIds = [...expiredVerifications, ...liveVerifications].map((v) => v.id);
        const left = await dataSource.getRepository(Verification).findBy({ id: In(verificationIds) });
        expect(left.map((v) => v.id).sort()).toEqual(liveVerifications.map((v) => v.id).sort());
        expect(await service.deleteExpired(10)).toEqual({ sessions: 0, verifications: 0 });
      });
    });
  });
});
