import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { SecurityEvent, Session, TypeOrmSessionStore } from '../../src/index.js';
import { createPasswordTestApp, freshEmail, GOOD_PASSWORD, sessionCookie } from '../apps/password-test-app.js';
import { type TestDatabase, testDatabases } from '../helpers/databases.js';
import { sameSite } from '../helpers/same-site.js';

const NEW_PASSWORD = 'a brand new passphrase for 2026';
const PARALLEL = 20;
const log: string[] = [];

describe.each(testDatabases())('concurrent transactions on $name', (db: TestDatabase) => {
  let database: Awaited<ReturnType<TestDatabase['create']>>;
  let app: INestApplication;
  const failFor = new Set<string>();
  const http = () => request(app.getHttpServer());

  /** The default store, plus a network round trip (an external cache kept in step) on each revocation. */
  class RemoteCachedSessionStore extends TypeOrmSessionStore {
    override async deleteByUser(...args: Parameters<TypeOrmSessionStore['deleteByUser']>): Promise<number> {
      const count = await super.deleteByUser(...args);
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (failFor.has(args[0])) throw new Error('injected: the cache could not be reached');
      return count;
    }
  }

  beforeAll(async () => {
    database = await db.create();
    ({ app } = await createPasswordTestApp({
      database: database.options,
      configure: (builder) => builder.overrideProvider(TypeOrmSessionStore).useClass(RemoteCachedSessionStore),
    }));
    const runner = app.get(DataSource).createQueryRunner() as any;
    const original = runner.query.bind(runner);
    runner.query = async (q: string, p?: unknown[], s?: boolean) => {
      if (/^(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)/.test(q)) log.push(q);
      try {
        return await original(q, p, s);
      } catch (e) {
        log.push('ERR ' + String(e));
        throw e;
      }
    };
  });

  afterAll(async () => {
    await app?.close();
    await database?.drop();
  });

  async function account() {
    const email = freshEmail('parallel');
    const res = await http().post('/auth/sign-up').send({ email, password: GOOD_PASSWORD }).expect(201);
    const other = await http()
      .post('/auth/sign-in')
      .send({ method: 'email', email, password: GOOD_PASSWORD })
      .expect(200);
    return { email, id: res.body.user.id as string, cookie: sessionCookie(res), other: sessionCookie(other) };
  }

  it('parallel password changes of different users all commit', async () => {
    const users = [];
    for (let i = 0; i < PARALLEL; i++) users.push(await account());
    failFor.add(users[0].id);
    log.length = 0;
    const results = await Promise.all(
      users.map((user) =>
        http()
          .post('/auth/change-password')
          .set(sameSite())
          .set('Cookie', user.cookie)
          .send({ currentPassword: GOOD_PASSWORD, newPassword: NEW_PASSWORD }),
      ),
    );
    console.log(results.map((r) => `${r.status} ${JSON.stringify(r.body).slice(0, 120)}`).join('\n'));
    const sessions = app.get(DataSource).getRepository(Session);
    const events = app.get(DataSource).getRepository(SecurityEvent);
    console.log(await Promise.all(users.map((u) => sessions.countBy({ userId: u.id }))));
    console.log(await Promise.all(users.map((u) => events.countBy({ userId: u.id, type: 'password.changed' }))));
    console.log(log.join(' | '));
    expect(results.map((r) => r.status)).toEqual(users.map(() => 200));
  });
});
