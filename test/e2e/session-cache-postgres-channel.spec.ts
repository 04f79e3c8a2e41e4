import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import type { DataSourceOptions } from 'typeorm';
import { SESSION_CACHE } from '../../src/session/session-cache.constants.js';
import type { SessionCache } from '../../src/session/session-cache.js';
import { createTestApp } from '../apps/test-app.js';
import { type TestDatabase, testDatabases } from '../helpers/databases.js';
import { uniqueEmail } from '../helpers/session-test-utils.js';

const postgres = testDatabases().find((db) => db.name === 'postgres');
const APP_URL = 'https://app.example';
const PASSWORD = 'correct horse battery staple';
/** A pool this small makes the starvation certain; the default pool (10) starves the same way under 10 commits. */
const POOL = 2;
const PARALLEL = 6;

/** Waits until the cache serves. */
async function untilAvailable(app: INestApplication, timeoutMs = 5000): Promise<void> {
  const cache = app.get<SessionCache>(SESSION_CACHE);
  const deadline = Date.now() + timeoutMs;
  while (!cache.isAvailable()) {
    if (Date.now() > deadline) throw new Error('session cache did not come on');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Settles with `value` or, after `ms`, with `'timed out'`. */
function within<T>(value: Promise<T>, ms: number): Promise<T | 'timed out'> {
  return Promise.race([value, new Promise<'timed out'>((resolve) => setTimeout(() => resolve('timed out'), ms))]);
}

/**
 * `session.cache` on PostgreSQL with no Redis: invalidations go over `LISTEN/NOTIFY`. A revocation in a
 * transaction is sent when the transaction commits, and the commit returns once it is sent, holding its
 * pooled connection until then. Sent through that same pool, the NOTIFY of each commit waited for a
 * connection the other commits held: with as many revocations in flight as the pool has connections,
 * every one of them waited for ever, and with them every request that needed the database.
 */
(postgres ? describe : describe.skip)('session cache over PostgreSQL LISTEN/NOTIFY', () => {
  let database: Awaited<ReturnType<TestDatabase['create']>>;
  let a: INestApplication;
  let b: INestApplication;
  const me = (app: INestApplication, cookie: string) => request(app.getHttpServer()).get('/me').set('Cookie', cookie);

  beforeAll(async () => {
    database = await postgres!.create();
    const auth = { appUrl: APP_URL, session: { cache: true } };
    a = await createTestApp({ database: { ...database.options, extra: { max: POOL } } as DataSourceOptions, auth });
    b = await createTestApp({ database: database.options, auth });
    await Promise.all([untilAvailable(a), untilAvailable(b)]);
  });

  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await database?.drop();
  });

  it('more revocations at once than the pool has connections all commit, and each reaches the other instance', async () => {
    const cookies: string[] = [];
    for (let i = 0; i < PARALLEL; i++) {
      const res = await request(a.getHttpServer())
        .post('/auth/sign-up')
        .send({ email: uniqueEmail('notify'), password: PASSWORD })
        .expect(201);
      const cookie = (res.headers['set-cookie'] as unknown as string[])[0].split(';')[0];
      // Cached on B, so only the invalidation can make B refuse it.
      expect((await me(b, cookie)).status).toBe(200);
      cookies.push(cookie);
    }
    const signOuts = Promise.all(
      cookies.map((cookie) =>
        request(a.getHttpServer())
          .post('/auth/sign-out')
          .set('Origin', APP_URL)
          .set('Cookie', cookie)
          .then((res) => res.status),
      ),
    );
    expect(await within(signOuts, 10_000)).toEqual(cookies.map(() => 200));
    for (const cookie of cookies) {
      const started = Date.now();
      while ((await me(b, cookie)).status !== 401) {
        expect(Date.now() - started).toBeLessThan(1000);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
  }, 30_000);
});
