import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { Session, SESSION_STORE, type SessionStore, TypeOrmSessionStore } from '../../src/index.js';
import type { SessionLookupKey } from '../../src/session/session-codec.interface.js';
import type { SessionWriteOptions, StoredSession } from '../../src/session/session-store.interface.js';
import { createTestSession } from '../../src/testing/index.js';
import { createTestApp, type Platform } from '../apps/test-app.js';
import { testDatabases } from '../helpers/databases.js';
import { sameSite } from '../helpers/same-site.js';

const SQLITE = testDatabases().find((d) => d.name === 'sqlite')!;

/** An application's store that wraps the default one: records every call and can hide sessions. */
class RecordingStore implements SessionStore {
  readonly calls: string[] = [];
  readonly hidden = new Set<string>();

  constructor(private readonly inner: SessionStore) {}

  insert(session: Session): Promise<void> {
    this.calls.push('insert');
    return this.inner.insert(session);
  }

  async find(key: SessionLookupKey): Promise<StoredSession | null> {
    this.calls.push('find');
    const found = await this.inner.find(key);
    return found && this.hidden.has(found.session.id) ? null : found;
  }

  update(sessionId: string, changes: { expiresAt?: Date; lastActiveAt: Date }): Promise<void> {
    this.calls.push('update');
    return this.inner.update(sessionId, changes);
  }

  delete(sessionId: string, options?: SessionWriteOptions & { userId?: string }): Promise<boolean> {
    this.calls.push('delete');
    return this.inner.delete(sessionId, options);
  }

  deleteByUser(userId: string, options?: SessionWriteOptions & { exceptSessionId?: string }): Promise<number> {
    this.calls.push('deleteByUser');
    return this.inner.deleteByUser(userId, options);
  }

  listByUser(userId: string, now: Date): Promise<Session[]> {
    this.calls.push('listByUser');
    return this.inner.listByUser(userId, now);
  }

  deleteExpired(now: Date, batchSize: number): Promise<number> {
    this.calls.push('deleteExpired');
    return this.inner.deleteExpired(now, batchSize);
  }
}

describe.each<Platform>(['express', 'fastify'])('overrideProvider(SESSION_STORE) (%s)', (platform) => {
  let app: INestApplication;
  let drop: () => Promise<void>;
  let store: RecordingStore;

  beforeAll(async () => {
    const db = await SQLITE.create();
    drop = db.drop;
    app = await createTestApp({
      database: db.options,
      platform,
      configure: (builder) =>
        builder.overrideProvider(SESSION_STORE).useFactory({
          factory: (inner: TypeOrmSessionStore) => new RecordingStore(inner),
          inject: [TypeOrmSessionStore],
        }),
    });
    store = app.get<RecordingStore>(SESSION_STORE);
  });

  afterAll(async () => {
    await app?.close();
    await drop?.();
  });

  const http = () => request(app.getHttpServer());

  it('is the store SessionService writes new sessions to', async () => {
    expect(store).toBeInstanceOf(RecordingStore);
    store.calls.length = 0;
    await createTestSession(app, {});
    expect(store.calls).toEqual(['insert']);
  });

  it("decides the guard's lookup: a session the store hides is refused although its row exists", async () => {
    const s = await createTestSession(app, {});
    store.calls.length = 0;
    expect((await http().get('/me').set('Cookie', s.cookie)).status).toBe(200);
    expect(store.calls).toEqual(['find']);

    store.hidden.add(s.session.id);
    expect((await http().get('/me').set('Cookie', s.cookie)).status).toBe(401);
    const session = await http().get('/auth/session').set('Cookie', s.cookie);
    expect(session.body).toEqual({ user: null, session: null });
    expect(await app.get(DataSource).getRepository(Session).countBy({ id: s.session.id })).toBe(1);
  });

  it('serves the session routes: list, revoke one, revoke others and sign-out', async () => {
    const current = await createTestSession(app, {});
    const second = await createTestSession(app, current.user.id);
    await createTestSession(app, current.user.id);
    const cookie = current.cookie;

    store.calls.length = 0;
    const list = await http().get('/auth/sessions').set('Cookie', cookie).expect(200);
    expect(list.body.sessions).toHaveLength(3);
    expect(store.calls).toEqual(['find', 'listByUser']);

    store.calls.length = 0;
    await http().delete(`/auth/sessions/${second.session.id}`).set(sameSite()).set('Cookie', cookie).expect(200);
    expect(store.calls).toEqual(['find', 'delete']);

    store.calls.length = 0;
    const others = await http().post('/auth/sessions/revoke-others').set(sameSite()).set('Cookie', cookie).expect(200);
    expect(others.body).toEqual({ success: true, revoked: 1 });
    expect(store.calls).toEqual(['find', 'deleteByUser']);

    store.calls.length = 0;
    await http().post('/auth/sign-out').set(sameSite()).set('Cookie', cookie).expect(200);
    expect(store.calls).toContain('delete');
    expect((await http().get('/me').set('Cookie', cookie)).status).toBe(401);
  });
});
