import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { SESSION_CACHE } from '../../src/session/session-cache.constants.js';
import type { SessionCache } from '../../src/session/session-cache.js';
import { createTestApp } from '../apps/test-app.js';
import { type TestDatabase, testDatabases } from '../helpers/databases.js';
import { uniqueEmail } from '../helpers/session-test-utils.js';
import { type CutMode, startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';

/**
 * The invalidation channel cut with a TCP proxy between instance B and Redis: B's cache switches
 * itself off (every check reads the database, so A's revocations are honoured), then on again,
 * emptied, once the channel is back.
 */
const REDIS_URL = process.env.TEST_REDIS_URL;

/** Waits until the cache serves (`true`) or has switched itself off (`false`). */
async function untilAvailable(app: INestApplication, available = true, timeoutMs = 5000): Promise<void> {
  const cache = app.get<SessionCache>(SESSION_CACHE);
  const deadline = Date.now() + timeoutMs;
  while (cache.isAvailable() !== available) {
    if (Date.now() > deadline) throw new Error(`session cache did not become ${available ? 'on' : 'off'}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
const postgres = testDatabases().find((db) => db.name === 'postgres');
const APP_URL = 'https://app.example';
const PASSWORD = 'correct horse battery staple';

(REDIS_URL && postgres ? describe.each(['blackhole', 'reset'] as const) : describe.skip.each(['blackhole'] as const))(
  'session cache with its Redis channel cut (%s)',
  (mode: CutMode) => {
    let database: Awaited<ReturnType<TestDatabase['create']>>;
    let proxy: TcpProxy;
    let a: INestApplication;
    let b: INestApplication;
    const me = (app: INestApplication, cookie: string) => request(app.getHttpServer()).get('/me').set('Cookie', cookie);

    beforeAll(async () => {
      database = await postgres!.create();
      const url = new URL(REDIS_URL!);
      proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 6379) });
      const app = (redis: string) =>
        createTestApp({
          database: database.options,
          auth: { appUrl: APP_URL, session: { cache: { redis, maxLag: 200 } } },
        });
      a = await app(REDIS_URL!);
      b = await app(proxy.rewrite(REDIS_URL!));
      await Promise.all([untilAvailable(a), untilAvailable(b)]);
    });
    afterAll(async () => {
      await Promise.all([a?.close(), b?.close()]);
      await proxy?.close();
      await database?.drop();
    });

    async function session(): Promise<string> {
      const email = uniqueEmail('channel');
      const res = await request(a.getHttpServer())
        .post('/auth/sign-up')
        .send({ email, password: PASSWORD })
        .expect(201);
      const cookie = (res.headers['set-cookie'] as unknown as string[])[0].split(';')[0];
      expect((await me(b, cookie)).status).toBe(200);
      return cookie;
    }

    const signOut = (cookie: string) =>
      request(a.getHttpServer()).post('/auth/sign-out').set('Origin', APP_URL).set('Cookie', cookie).expect(200);

    it("switches B's cache off while the channel is cut, answers every check from the database, and back on after", async () => {
      const [revoked, kept] = [await session(), await session()];
      proxy.cut(mode);
      await untilAvailable(b, false, 3000);
      expect(b.get<SessionCache>(SESSION_CACHE).stats().size).toBe(0);
      // A's revocation cannot reach B, yet B refuses it: it reads the database now.
      await signOut(revoked);
      expect((await me(b, revoked)).status).toBe(401);
      expect((await me(b, kept)).status).toBe(200);
      proxy.restore();
      await untilAvailable(b, true, 10_000);
      // Back on and exact again: a revocation on A reaches B's cache.
      expect((await me(b, kept)).status).toBe(200);
      expect((await me(b, kept)).status).toBe(200);
      await signOut(kept);
      const started = Date.now();
      while ((await me(b, kept)).status !== 401) {
        expect(Date.now() - started).toBeLessThan(250);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }, 30_000);
  },
);
