import 'reflect-metadata';
import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { USER_TABLE } from '../../src/arraf-auth.constants.js';
import type { User } from '../../src/entities/user.entity.js';
import type { ArrafAuthOptions } from '../../src/options/arraf-auth-options.interface.js';
import { SESSION_CACHE } from '../../src/session/session-cache.constants.js';
import type { SessionCache } from '../../src/session/session-cache.js';
import { SessionService } from '../../src/session/session.service.js';
import { createTestApp } from '../apps/test-app.js';
import { type TestDatabase, testDatabases } from '../helpers/databases.js';
import { expectError, findSessionRow, QueryLog, uniqueEmail } from '../helpers/session-test-utils.js';

const APP_URL = 'https://app.example';
const PASSWORD = 'correct horse battery staple';
const NEW_PASSWORD = 'a different horse battery staple';

interface SignedIn {
  userId: string;
  email: string;
  cookies: string[];
  sessionIds: string[];
}

function cookieOf(res: request.Response): string {
  const header = res.headers['set-cookie'] as unknown as string[];
  return header.find((c) => !/=;/.test(c))!.split(';')[0];
}

/** Waits until the cache serves (the channel proved itself with a heartbeat). */
async function untilAvailable(app: INestApplication, available = true, timeoutMs = 5000): Promise<void> {
  const cache = app.get<SessionCache>(SESSION_CACHE);
  const deadline = Date.now() + timeoutMs;
  while (cache.isAvailable() !== available) {
    if (Date.now() > deadline) throw new Error(`session cache did not become ${available ? 'on' : 'off'}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe.each(testDatabases())('session cache on $name', (db: TestDatabase) => {
  let database: Awaited<ReturnType<TestDatabase['create']>>;
  let app: INestApplication;
  const queries = new QueryLog();
  const resets: { token?: string }[] = [];
  const http = () => request(app.getHttpServer());
  const me = (cookie: string) => http().get('/me').set('Cookie', cookie);

  async function start(session: NonNullable<ArrafAuthOptions['session']>): Promise<void> {
    app = await createTestApp({
      database: database.options,
      onQuery: queries.onQuery,
      auth: {
        appUrl: APP_URL,
        session: { cache: true, ...session },
        callbacks: { onForgotPassword: (delivery) => void resets.push(delivery) },
      },
    });
    await untilAvailable(app);
  }

  /** A user with two sessions, both checked once (so both are cached). */
  async function signedIn(): Promise<SignedIn> {
    const email = uniqueEmail('cache');
    const up = await http().post('/auth/sign-up').send({ email, password: PASSWORD }).expect(201);
    const inAgain = await http().post('/auth/sign-in').send({ method: 'email', email, password: PASSWORD }).expect(200);
    const cookies = [cookieOf(up), cookieOf(inAgain)];
    for (const cookie of cookies) expect((await me(cookie)).status).toBe(200);
    return { userId: up.body.user.id, email, cookies, sessionIds: [up.body.session.id, inAgain.body.session.id] };
  }

  /** Statements that read or write sessions or users since the last reset. */
  const sessionQueries = () => queries.statements.filter((sql) => /sessions|users/i.test(sql));

  beforeAll(async () => {
    database = await db.create();
  });
  afterAll(async () => {
    await database.drop();
  });

  describe('with the jwt strategy', () => {
    beforeAll(() => start({}));
    afterAll(() => app.close());

    it('answers a repeated check from the cache without any database query', async () => {
      const user = await signedIn();
      queries.reset();
      for (let i = 0; i < 3; i++) expect((await me(user.cookies[0])).status).toBe(200);
      expect(sessionQueries()).toEqual([]);
      expect(app.get<SessionCache>(SESSION_CACHE).stats().hits).toBeGreaterThan(0);
    });

    it('never hands one request the objects another request got', async () => {
      const user = await signedIn();
      const first = await http().get('/auth/session').set('Cookie', user.cookies[0]);
      const second = await http().get('/auth/session').set('Cookie', user.cookies[0]);
      expect(second.body).toEqual(first.body);
    });

    const paths: [string, (user: SignedIn) => Promise<unknown>, boolean[]][] = [
      [
        'sign-out',
        (u) => http().post('/auth/sign-out').set('Origin', APP_URL).set('Cookie', u.cookies[0]).expect(200),
        [false, true],
      ],
      [
        'revoking one session',
        (u) =>
          http()
            .delete(`/auth/sessions/${u.sessionIds[1]}`)
            .set('Origin', APP_URL)
            .set('Cookie', u.cookies[0])
            .expect(200),
        [true, false],
      ],
      [
        'revoking the other sessions',
        (u) =>
          http().post('/auth/sessions/revoke-others').set('Origin', APP_URL).set('Cookie', u.cookies[0]).expect(200),
        [true, false],
      ],
      ['revoking every session', (u) => app.get(SessionService).revokeUserSessions(u.userId), [false, false]],
      [
        'a password change',
        (u) =>
          http()
            .post('/auth/change-password')
            .set('Origin', APP_URL)
            .set('Cookie', u.cookies[0])
            .send({ currentPassword: PASSWORD, newPassword: NEW_PASSWORD, revokeOtherSessions: true })
            .expect(200),
        [true, false],
      ],
      [
        'a password reset',
        async (u) => {
          await http()
            .post('/auth/forgot-password')
            .send({ method: 'email', email: u.email, mode: 'link' })
            .expect(200);
          const { token } = resets.at(-1)!;
          await http()
            .post('/auth/reset-password')
            .send({ method: 'email', token, newPassword: NEW_PASSWORD })
            .expect(200);
        },
        [false, false],
      ],
      [
        'deleting the user (repository)',
        (u) => app.get(DataSource).getRepository<User>(USER_TABLE).delete({ id: u.userId }),
        [false, false],
      ],
      [
        'deleting the user (raw SQL, then SessionService.forgetUser)',
        async (u) => {
          const ds = app.get(DataSource);
          const p = ds.driver.options.type === 'postgres' ? '$1' : '?';
          await ds.query(`DELETE FROM ${ds.driver.escape(USER_TABLE)} WHERE ${ds.driver.escape('id')} = ${p}`, [
            u.userId,
          ]);
          await app.get(SessionService).forgetUser(u.userId);
        },
        [false, false],
      ],
    ];

    it.each(paths)('refuses at once what %s ended, keeps what it kept', async (_path, act, expected) => {
      const user = await signedIn();
      await act(user);
      const statuses = await Promise.all(user.cookies.map(async (cookie) => (await me(cookie)).status));
      expect(statuses).toEqual(expected.map((alive) => (alive ? 200 : 401)));
    });

    it('serves a user update made through a repository at once', async () => {
      const user = await signedIn();
      await app.get(DataSource).getRepository<User>(USER_TABLE).update({ id: user.userId }, { name: 'Renamed' });
      const res = await http().get('/auth/session').set('Cookie', user.cookies[0]).expect(200);
      expect(res.body.user.name).toBe('Renamed');
    });

    it('serves an update saved on the entity at once', async () => {
      const user = await signedIn();
      const users = app.get(DataSource).getRepository<User>(USER_TABLE);
      const entity = await users.findOneByOrFail({ id: user.userId });
      entity.name = 'Saved';
      await users.save(entity);
      const res = await http().get('/auth/session').set('Cookie', user.cookies[0]).expect(200);
      expect(res.body.user.name).toBe('Saved');
    });
  });

  describe('with the database strategy and an idle timeout', () => {
    let offset = 0;
    beforeAll(async () => {
      const now = Date.now.bind(Date);
      jest.spyOn(Date, 'now').mockImplementation(() => now() + offset);
      await start({ strategy: 'database', idleTimeout: '2m', expiresIn: '1d', updateAge: '3m' });
    });
    afterEach(() => {
      offset = 0;
    });
    afterAll(async () => {
      jest.restoreAllMocks();
      await app.close();
    });

    it('keeps recording activity from cache hits: a session used every minute never goes idle', async () => {
      const user = await signedIn();
      const before = (await findSessionRow(app, user.sessionIds[0]))!.lastActiveAt.getTime();
      for (let step = 1; step <= 4; step++) {
        offset = step * 61_000;
        expect((await me(user.cookies[0])).status).toBe(200);
      }
      const after = (await findSessionRow(app, user.sessionIds[0]))!.lastActiveAt.getTime();
      expect(after - before).toBeGreaterThanOrEqual(3 * 61_000);
    });

    it('ends a cached session that went idle, and deletes its row', async () => {
      const user = await signedIn();
      offset = 3 * 60_000;
      expectError(await me(user.cookies[0]), 401, 'UNAUTHENTICATED');
      expect(await findSessionRow(app, user.sessionIds[0])).toBeNull();
    });

    it('ends a cached session past its expiry', async () => {
      const user = await signedIn();
      offset = 2 * 86_400_000;
      expectError(await me(user.cookies[1]), 401, 'UNAUTHENTICATED');
    });

    it('renews from a cache hit once updateAge has passed, and writes the new expiry', async () => {
      const user = await signedIn();
      const before = (await findSessionRow(app, user.sessionIds[0]))!.expiresAt.getTime();
      const renewals: boolean[] = [];
      for (let step = 1; step <= 4; step++) {
        offset = step * 61_000;
        const res = await me(user.cookies[0]);
        expect(res.status).toBe(200);
        renewals.push(res.headers['set-cookie'] !== undefined);
      }
      // Renewed once (past 3 minutes), not on every hit after it.
      expect(renewals).toEqual([false, false, true, false]);
      const after = (await findSessionRow(app, user.sessionIds[0]))!.expiresAt.getTime();
      expect(after - before).toBeGreaterThanOrEqual(3 * 61_000);
    });
  });
});
