import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Test } from '@nestjs/testing';
import { DataSource, QueryFailedError, type Logger as TypeOrmLogger } from 'typeorm';
import { SESSION_STORE } from '../../src/arraf-auth.constants.js';
import { ARRAF_AUTH_ENTITIES } from '../../src/entities/arraf-auth.entities.js';
import { Session } from '../../src/entities/session.entity.js';
import { User } from '../../src/entities/user.entity.js';
import type { SessionStore } from '../../src/session/session-store.interface.js';
import { TypeOrmSessionStore } from '../../src/session/typeorm-session.store.js';
import { type TestDatabase, testDatabases } from '../helpers/databases.js';
import { QueryLog } from '../helpers/session-test-utils.js';

const DAY = 86_400_000;

describe.each(testDatabases())('TypeOrmSessionStore on $name', (db: TestDatabase) => {
  let database: Awaited<ReturnType<TestDatabase['create']>>;
  let ds: DataSource;
  let store: SessionStore;
  const log = new QueryLog();

  beforeAll(async () => {
    database = await db.create();
    const logger: TypeOrmLogger = {
      logQuery: (sql) => log.onQuery(sql),
      logQueryError: () => undefined,
      logQuerySlow: () => undefined,
      logSchemaBuild: () => undefined,
      logMigration: () => undefined,
      log: () => undefined,
    };
    ds = await new DataSource({
      ...database.options,
      entities: ARRAF_AUTH_ENTITIES,
      synchronize: true,
      logging: ['query'],
      logger,
    }).initialize();
    const moduleRef = await Test.createTestingModule({
      providers: [
        { provide: DataSource, useValue: ds },
        TypeOrmSessionStore,
        { provide: SESSION_STORE, useExisting: TypeOrmSessionStore },
      ],
    }).compile();
    store = moduleRef.get(SESSION_STORE);
  });

  afterAll(async () => {
    if (ds?.isInitialized) await ds.destroy();
    await database?.drop();
  });

  async function newUser(fields: Partial<User> = {}): Promise<User> {
    const users = ds.getRepository(User);
    const user = users.create({ id: crypto.randomUUID(), email: `${crypto.randomUUID()}@example.com`, ...fields });
    await users.insert(user);
    return user;
  }

  function newSession(userId: string, fields: Partial<Session> = {}): Session {
    const now = new Date(Math.floor(Date.now() / 1000) * 1000); // whole seconds: MySQL DATETIME precision
    return Object.assign(new Session(), {
      id: crypto.randomUUID(),
      userId,
      tokenHash: crypto.randomUUID().replaceAll('-', '').padEnd(64, '0'),
      expiresAt: new Date(now.getTime() + DAY),
      lastActiveAt: now,
      createdAt: now,
      ipAddress: '192.0.2.1',
      userAgent: 'agent',
      ...fields,
    });
  }

  it('finds a session and its user in one joined SELECT, by id and by token hash, as typed entities', async () => {
    const user = await newUser({ name: 'Noura', emailVerified: true, phoneVerified: false });
    const session = newSession(user.id);
    await store.insert(session);
    for (const key of [
      { by: 'id' as const, sessionId: session.id, userId: user.id },
      { by: 'tokenHash' as const, tokenHash: session.tokenHash },
    ]) {
      log.reset();
      const found = await store.find(key);
      expect(log.statements).toHaveLength(1);
      expect(log.statements[0]).toMatch(/^SELECT\b[\s\S]*\bJOIN\b/i);
      expect(found!.user).toBeInstanceOf(User);
      expect(found!.session).toBeInstanceOf(Session);
      expect(found!.user).toMatchObject({ id: user.id, name: 'Noura', emailVerified: true, phoneVerified: false });
      expect(found!.session.expiresAt).toBeInstanceOf(Date);
      expect(found!.session).toMatchObject({
        id: session.id,
        userId: user.id,
        expiresAt: session.expiresAt,
        createdAt: session.createdAt,
        ipAddress: '192.0.2.1',
      });
    }
    expect(await store.find({ by: 'id', sessionId: crypto.randomUUID(), userId: user.id })).toBeNull();
    expect(await store.find({ by: 'tokenHash', tokenHash: '0'.repeat(64) })).toBeNull();
  });

  it('records renewal with one UPDATE of expiry and activity, and activity alone with one UPDATE', async () => {
    const user = await newUser();
    const session = newSession(user.id);
    await store.insert(session);
    const expiresAt = new Date(session.expiresAt.getTime() + 5 * DAY);
    const lastActiveAt = new Date(session.lastActiveAt.getTime() + 60_000);
    log.reset();
    await store.update(session.id, { expiresAt, lastActiveAt });
    expect(log.count('UPDATE', 'sessions')).toBe(1);
    expect(await ds.getRepository(Session).findOneByOrFail({ id: session.id })).toMatchObject({
      expiresAt,
      lastActiveAt,
    });
    const touched = new Date(lastActiveAt.getTime() + 60_000);
    await store.update(session.id, { lastActiveAt: touched });
    expect(await ds.getRepository(Session).findOneByOrFail({ id: session.id })).toMatchObject({
      expiresAt,
      lastActiveAt: touched,
    });
  });

  it("deletes one session only for its owner, and a user's sessions except one", async () => {
    const [alice, bob] = [await newUser(), await newUser()];
    const [a1, a2, a3] = [newSession(alice.id), newSession(alice.id), newSession(alice.id)];
    for (const s of [a1, a2, a3]) await store.insert(s);
    expect(await store.delete(a1.id, { userId: bob.id })).toBe(false);
    expect(await store.delete(a1.id, { userId: alice.id })).toBe(true);
    expect(await store.delete(a1.id)).toBe(false);
    expect(await store.deleteByUser(alice.id, { exceptSessionId: a3.id })).toBe(1);
    expect((await ds.getRepository(Session).findBy({ userId: alice.id })).map((s) => s.id)).toEqual([a3.id]);
  });

  it("writes through the caller's transaction manager, so a rollback keeps the sessions", async () => {
    const user = await newUser();
    const session = newSession(user.id);
    await store.insert(session);
    await expect(
      ds.transaction(async (manager) => {
        expect(await store.deleteByUser(user.id, { manager })).toBe(1);
        expect(await store.delete(session.id, { manager })).toBe(false);
        throw new Error('rollback');
      }),
    ).rejects.toThrow('rollback');
    expect(await ds.getRepository(Session).countBy({ id: session.id })).toBe(1);
  });

  it('lists unexpired sessions newest first, and deletes expired ones in batches', async () => {
    const user = await newUser();
    const now = Date.now();
    const older = newSession(user.id, { createdAt: new Date(now - 2 * DAY) });
    const newer = newSession(user.id, { createdAt: new Date(now - DAY) });
    const expired = [1, 2, 3].map(() => newSession(user.id, { expiresAt: new Date(now - 1000) }));
    for (const s of [older, newer, ...expired]) await store.insert(s);
    expect((await store.listByUser(user.id, new Date(now))).map((s) => s.id)).toEqual([newer.id, older.id]);
    log.reset();
    expect(await store.deleteExpired(new Date(now), 2)).toBeGreaterThanOrEqual(3);
    expect(log.count('DELETE', 'sessions')).toBeGreaterThanOrEqual(2);
    expect(await ds.getRepository(Session).countBy({ userId: user.id })).toBe(2);
  });

  it('keeps query subscribers informed: with one, lookups go through dataSource.query and reach it', async () => {
    const seen: string[] = [];
    const watched = await new DataSource({
      ...database.options,
      entities: ARRAF_AUTH_ENTITIES,
      subscribers: [],
    }).initialize();
    watched.subscribers.push({ beforeQuery: (event: { query: string }) => void seen.push(event.query) });
    try {
      const moduleRef = await Test.createTestingModule({
        providers: [{ provide: DataSource, useValue: watched }, TypeOrmSessionStore],
      }).compile();
      const watchedStore = moduleRef.get(TypeOrmSessionStore);
      const user = await newUser();
      const session = newSession(user.id);
      await store.insert(session);
      seen.length = 0;
      expect((await watchedStore.find({ by: 'tokenHash', tokenHash: session.tokenHash }))?.session.id).toBe(session.id);
      expect(seen.filter((sql) => /^SELECT .* JOIN /s.test(sql))).toHaveLength(1);
    } finally {
      await watched.destroy();
    }
  });

  // The two direct lookup paths (better-sqlite3 statements, PostgreSQL prepared statements); other
  // databases use dataSource.query, whose errors are TypeORM's own.
  const direct = db.name === 'sqlite' || db.name === 'postgres';
  if (direct) {
    it('turns a failing direct lookup into a QueryFailedError, and recovers', async () => {
      const failing = new Error('the database is gone');
      const restore = await breakLookups(ds, failing);
      try {
        await expect(store.find({ by: 'tokenHash', tokenHash: crypto.randomUUID() })).rejects.toBeInstanceOf(
          QueryFailedError,
        );
      } finally {
        restore();
      }
      expect(await store.find({ by: 'tokenHash', tokenHash: crypto.randomUUID() })).toBeNull();
    });
  }
});

/**
 * Makes the database's own query call fail underneath TypeORM: the better-sqlite3 statement, the
 * node-postgres client, or the query runner elsewhere. Returns the undo.
 */
async function breakLookups(ds: DataSource, error: Error): Promise<() => void> {
  const runner = ds.createQueryRunner();
  const connection = (await runner.connect()) as object;
  await runner.release();
  const type = ds.driver.options.type;
  const target: Record<string, unknown> =
    type === 'better-sqlite3'
      ? Object.getPrototypeOf((connection as { prepare(sql: string): object }).prepare('SELECT 1'))
      : type === 'postgres'
        ? Object.getPrototypeOf(connection)
        : {};
  const name = type === 'better-sqlite3' ? 'all' : 'query';
  const original = target[name];
  target[name] =
    type === 'better-sqlite3'
      ? () => {
          throw error;
        }
      : () => Promise.reject(error);
  return () => {
    target[name] = original;
  };
}
