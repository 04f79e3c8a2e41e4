import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import type { ArrafAuthSessionOptions } from '../../src/options/arraf-auth-options.interface.js';
import { SessionService } from '../../src/session/session.service.js';
import { createTestSession, type TestSession } from '../../src/testing/index.js';
import { createTestApp, type Platform } from '../apps/test-app.js';
import { type TestDatabase, testDatabases } from '../helpers/databases.js';
import { sameSite } from '../helpers/same-site.js';
import {
  expectError,
  findSessionRow,
  onlySetCookie,
  sessionRepository,
  setCookies,
  sha256Hex,
  uniqueEmail,
} from '../helpers/session-test-utils.js';

type Strategy = 'jwt' | 'database';
const STRATEGIES: Strategy[] = ['jwt', 'database'];
const DAY_MS = 86_400_000;
const PLATFORMS: Platform[] = ['express', 'fastify'];

/** Every configured database, on each platform. */
const CASES = testDatabases().flatMap((db) => PLATFORMS.map((platform) => ({ db, platform, name: db.name })));

describe.each(CASES)('session routes on $name ($platform)', ({ db, platform }: (typeof CASES)[number]) => {
  let database: Awaited<ReturnType<TestDatabase['create']>>;

  beforeAll(async () => {
    database = await db.create();
  });

  afterAll(async () => {
    await database?.drop();
  });

  describe.each(STRATEGIES)("strategy '%s'", (strategy: Strategy) => {
    const apps: INestApplication[] = [];
    let app: INestApplication;

    async function start(session: ArrafAuthSessionOptions = {}): Promise<INestApplication> {
      const auth = { session: { strategy, ...session } };
      const started = await createTestApp({ database: database.options, platform, auth });
      apps.push(started);
      return started;
    }

    beforeAll(async () => {
      app = await start();
    });

    afterAll(async () => {
      for (const started of apps.reverse()) await started.close();
    });

    const http = () => request(app.getHttpServer());

    async function expectSignedIn(signedIn: TestSession): Promise<void> {
      const res = await http().get('/me').set('Cookie', signedIn.cookie);
      expect({ status: res.status, sessionId: res.body.sessionId }).toEqual({
        status: 200,
        sessionId: signedIn.session.id,
      });
    }

    async function expectRejected(signedIn: TestSession): Promise<void> {
      expectError(await http().get('/me').set('Cookie', signedIn.cookie), 401, 'UNAUTHENTICATED');
    }

    /** A user signed in on `count` devices; the first is "this" device. */
    async function userWithSessions(count: number): Promise<TestSession[]> {
      const first = await createTestSession(app, { email: uniqueEmail() });
      const all = [first];
      for (let i = 1; i < count; i++) all.push(await createTestSession(app, first.user.id));
      return all;
    }

    /** Makes the sign-in behind a session older than the default freshAge (1 day). */
    async function makeStale(signedIn: TestSession): Promise<void> {
      await sessionRepository(app).update(
        { id: signedIn.session.id },
        { createdAt: new Date(Date.now() - 2 * DAY_MS) },
      );
    }

    describe('GET /auth/session', () => {
      it('returns exactly the public user and session fields', async () => {
        const signedIn = await createTestSession(app, {
          email: uniqueEmail(),
          phone: `+9665${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`,
          name: 'سارة',
          image: 'https://example.com/a.png',
          emailVerified: true,
          phoneVerified: false,
        });
        const res = await http().get('/auth/session').set('Cookie', signedIn.cookie).expect(200);
        const row = await findSessionRow(app, signedIn.session.id);
        const { user } = signedIn;
        expect(res.body).toStrictEqual({
          user: {
            id: user.id,
            email: user.email,
            phone: user.phone,
            name: 'سارة',
            image: 'https://example.com/a.png',
            emailVerified: true,
            phoneVerified: false,
          },
          session: { id: signedIn.session.id, userId: user.id, expiresAt: row!.expiresAt.toISOString() },
          // Issue 16: whether the user has a second factor.
          twoFactor: { enabled: false, methods: [] },
        });
        expect(setCookies(res)).toEqual([]);
      });

      it('returns { user: null, session: null } with 200 and sets no cookie when signed out', async () => {
        const res = await http().get('/auth/session').expect(200);
        expect(res.body).toStrictEqual({ user: null, session: null });
        expect(setCookies(res)).toEqual([]);
      });

      it('returns nulls and clears the cookie when the cookie no longer works', async () => {
        const signedIn = await createTestSession(app, { email: uniqueEmail() });
        await app.get(SessionService).revokeSession(signedIn.session.id);
        const res = await http().get('/auth/session').set('Cookie', signedIn.cookie).expect(200);
        expect(res.body).toStrictEqual({ user: null, session: null });
        const cleared = onlySetCookie(res);
        expect(cleared).toMatchObject({ name: '__Host-auth_session', value: '' });
        expect(cleared.attributes['max-age']).toBe('0');
      });

      it('accepts Authorization: Bearer when bearer is on, and ignores it when off', async () => {
        const bearerApp = await start({ bearer: true });
        const signedIn = await createTestSession(bearerApp, { email: uniqueEmail() });
        const auth = `Bearer ${signedIn.token}`;

        const res = await request(bearerApp.getHttpServer())
          .get('/auth/session')
          .set('Authorization', auth)
          .expect(200);
        expect(res.body.user.id).toBe(signedIn.user.id);
        expect(res.body.session).toMatchObject({ id: signedIn.session.id, userId: signedIn.user.id });
        expect(setCookies(res)).toEqual([]);
        const me = await request(bearerApp.getHttpServer()).get('/me').set('Authorization', auth).expect(200);
        expect(me.body.sessionId).toBe(signedIn.session.id);

        // The same, valid token on an app without `bearer`.
        const off = await http().get('/auth/session').set('Authorization', auth).expect(200);
        expect(off.body).toStrictEqual({ user: null, session: null });
        expectError(await http().get('/me').set('Authorization', auth), 401, 'UNAUTHENTICATED');
      });
    });

    describe('GET /auth/sessions', () => {
      it("lists the user's active sessions with their metadata, marks the current one, and exposes no secret", async () => {
        const service = app.get(SessionService);
        const current = await createTestSession(app, { email: uniqueEmail() });
        const phone = await service.createSession(current.user, { ipAddress: '203.0.113.7', userAgent: 'Phone/1.0' });
        const laptop = await service.createSession(current.user, { ipAddress: '2001:db8::1', userAgent: 'Laptop/2.0' });
        const expired = await service.createSession(current.user, { ipAddress: '198.51.100.1', userAgent: 'Old/0.1' });
        await sessionRepository(app).update({ id: expired.session.id }, { expiresAt: new Date(Date.now() - 1000) });
        const stranger = await createTestSession(app, { email: uniqueEmail() });

        const res = await http().get('/auth/sessions').set('Cookie', current.cookie).expect(200);
        expect(Object.keys(res.body)).toEqual(['sessions']);
        const listed = res.body.sessions as Record<string, unknown>[];
        expect(listed.map((s) => s.id).sort()).toEqual(
          [current.session.id, phone.session.id, laptop.session.id].sort(),
        );
        for (const s of listed) {
          expect(Object.keys(s).sort()).toEqual(['createdAt', 'current', 'expiresAt', 'id', 'ipAddress', 'userAgent']);
          expect(Number.isNaN(Date.parse(s.createdAt as string))).toBe(false);
          expect(Date.parse(s.expiresAt as string)).toBeGreaterThan(Date.now());
        }
        const byId = new Map(listed.map((s) => [s.id, s]));
        expect(byId.get(current.session.id)).toMatchObject({
          current: true,
          ipAddress: '127.0.0.1',
          userAgent: 'arraf-auth-testing',
        });
        expect(byId.get(phone.session.id)).toMatchObject({
          current: false,
          ipAddress: '203.0.113.7',
          userAgent: 'Phone/1.0',
        });
        expect(byId.get(laptop.session.id)).toMatchObject({
          current: false,
          ipAddress: '2001:db8::1',
          userAgent: 'Laptop/2.0',
        });

        const rows = await sessionRepository(app).findBy({ userId: current.user.id });
        const secrets = [
          current.token,
          phone.cookieValue,
          laptop.cookieValue,
          stranger.token,
          ...rows.map((r) => r.tokenHash),
        ];
        if (strategy === 'database') secrets.push(sha256Hex(current.token));
        for (const secret of secrets) expect(res.text).not.toContain(secret);
        expect(res.text).not.toMatch(/token/i);
        expect(res.text).not.toContain(stranger.session.id);
      });

      it('answers 401 UNAUTHENTICATED without a session', async () => {
        expectError(await http().get('/auth/sessions'), 401, 'UNAUTHENTICATED');
      });
    });

    describe('DELETE /auth/sessions/:id', () => {
      it("revokes another of the user's sessions: that cookie gets 401, this one keeps working", async () => {
        const [current, other] = await userWithSessions(2);
        const res = await http()
          .delete(`/auth/sessions/${other.session.id}`)
          .set('Cookie', current.cookie)
          .set(sameSite())
          .expect(200);
        expect(res.body).toStrictEqual({ success: true });
        expect(setCookies(res)).toEqual([]);
        await expectRejected(other);
        await expectSignedIn(current);
      });

      it('revokes the current session and clears its cookie, even from a stale sign-in', async () => {
        const [current, other] = await userWithSessions(2);
        await makeStale(current);
        const res = await http()
          .delete(`/auth/sessions/${current.session.id}`)
          .set('Cookie', current.cookie)
          .set(sameSite())
          .expect(200);
        expect(res.body).toStrictEqual({ success: true });
        const cleared = onlySetCookie(res);
        expect(cleared.value).toBe('');
        expect(cleared.attributes['max-age']).toBe('0');
        await expectRejected(current);
        await expectSignedIn(other);
      });

      it("answers 404 SESSION_NOT_FOUND for another user's session, which stays valid", async () => {
        const [current] = await userWithSessions(1);
        const [victim] = await userWithSessions(1);
        expectError(
          await http().delete(`/auth/sessions/${victim.session.id}`).set('Cookie', current.cookie).set(sameSite()),
          404,
          'SESSION_NOT_FOUND',
        );
        await expectSignedIn(victim);
        expectError(
          await http().delete(`/auth/sessions/${randomUUID()}`).set('Cookie', current.cookie).set(sameSite()),
          404,
          'SESSION_NOT_FOUND',
        );
      });

      it('answers 400 INVALID_INPUT for a malformed id and revokes nothing', async () => {
        const [current, other] = await userWithSessions(2);
        for (const id of ['not-a-session-id', `${other.session.id}x`, "1'%20OR%20'1'%3D'1", '%00']) {
          const res = await http().delete(`/auth/sessions/${id}`).set('Cookie', current.cookie).set(sameSite());
          expect({ id, status: res.status }).toEqual({ id, status: 400 });
          expectError(res, 400, 'INVALID_INPUT');
        }
        await expectSignedIn(current);
        await expectSignedIn(other);
      });

      it("answers 403 SESSION_NOT_FRESH for another device's session after a stale sign-in, and revokes nothing", async () => {
        const [current, other] = await userWithSessions(2);
        await makeStale(current);
        expectError(
          await http().delete(`/auth/sessions/${other.session.id}`).set('Cookie', current.cookie).set(sameSite()),
          403,
          'SESSION_NOT_FRESH',
        );
        await expectSignedIn(other);
        await expectSignedIn(current);
      });

      it('answers 401 UNAUTHENTICATED without a session', async () => {
        const [victim] = await userWithSessions(1);
        expectError(await http().delete(`/auth/sessions/${victim.session.id}`), 401, 'UNAUTHENTICATED');
        await expectSignedIn(victim);
      });
    });

    describe('POST /auth/sessions/revoke-others', () => {
      it("revokes every other session of the user and reports how many; this one and other users' stay", async () => {
        const [current, second, third] = await userWithSessions(3);
        const [stranger] = await userWithSessions(1);
        const res = await http()
          .post('/auth/sessions/revoke-others')
          .set('Cookie', current.cookie)
          .set(sameSite())
          .expect(200);
        expect(res.body).toStrictEqual({ success: true, revoked: 2 });
        await expectRejected(second);
        await expectRejected(third);
        await expectSignedIn(current);
        await expectSignedIn(stranger);

        const again = await http()
          .post('/auth/sessions/revoke-others')
          .set('Cookie', current.cookie)
          .set(sameSite())
          .expect(200);
        expect(again.body).toStrictEqual({ success: true, revoked: 0 });
      });

      it('answers 403 SESSION_NOT_FRESH after a stale sign-in and revokes nothing', async () => {
        const [current, second, third] = await userWithSessions(3);
        await makeStale(current);
        expectError(
          await http().post('/auth/sessions/revoke-others').set('Cookie', current.cookie).set(sameSite()),
          403,
          'SESSION_NOT_FRESH',
        );
        await expectSignedIn(second);
        await expectSignedIn(third);
        expect(await sessionRepository(app).countBy({ userId: current.user.id })).toBe(3);
      });

      it('answers 401 UNAUTHENTICATED without a session', async () => {
        expectError(await http().post('/auth/sessions/revoke-others'), 401, 'UNAUTHENTICATED');
      });
    });

    describe('POST /auth/sign-out', () => {
      it('answers 200 { success: true } and clears the cookie without a session too', async () => {
        const res = await http().post('/auth/sign-out').expect(200);
        expect(res.body).toStrictEqual({ success: true });
        expect(onlySetCookie(res).attributes['max-age']).toBe('0');
      });

      it('signs out only the session it is called with', async () => {
        const [current, other] = await userWithSessions(2);
        await http().post('/auth/sign-out').set('Cookie', current.cookie).set(sameSite()).expect(200);
        await expectRejected(current);
        await expectSignedIn(other);
        expect(await sessionRepository(app).countBy({ userId: current.user.id })).toBe(1);
      });
    });
  });
});
