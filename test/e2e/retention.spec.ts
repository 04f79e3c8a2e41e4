import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes, randomUUID } from 'node:crypto';
import { DataSource, In } from 'typeorm';
import {
  ArrafAuthConfigError,
  ArrafAuthRetention,
  SecurityEvent,
  Session,
  User,
  Verification,
} from '../../src/index.js';
import type { SecurityTestApp } from '../apps/security-test-app.js';
import { TEST_SECRET } from '../apps/test-app.js';
import { type TestDatabase, testDatabases } from '../helpers/databases.js';
import { createAccountDataApp } from './account-data.fixture.js';

const DAY = 24 * 3600 * 1000;
const ago = (days: number) => new Date(Date.now() - days * DAY);

/**
 * `ArrafAuthRetention.apply()` (issue 18, Saudi PDPL): expired sessions and one-time secrets go,
 * IP addresses and user agents older than `ipAddressesAfterDays` are erased from sessions and
 * security events (newer ones stay), security events older than `securityEventsAfterDays` go, all
 * in batches of `batchSize` (smaller here than the rows, so several batches run).
 */
describe.each(testDatabases())('retention on $name', (db: TestDatabase) => {
  let database: Awaited<ReturnType<TestDatabase['create']>>;
  let t: SecurityTestApp;
  const retention = { ipAddressesAfterDays: 30, securityEventsAfterDays: 400, batchSize: 7 };

  beforeAll(async () => {
    database = await db.create();
    t = await createAccountDataApp(database.options, { auth: { retention } });
  });

  afterAll(async () => {
    await t?.app.close();
    await database?.drop();
  });

  /** A user with `counts` sessions, secrets and events of each age; returns the ids by group. */
  async function seed() {
    const dataSource = t.app.get(DataSource);
    const userId = randomUUID();
    await dataSource
      .getRepository(User)
      .insert({ id: userId, email: `r-${randomBytes(5).toString('hex')}@example.sa` });
    const session = (createdAt: Date, expiresAt: Date) => ({
      id: randomUUID(),
      userId,
      tokenHash: randomBytes(32).toString('hex'),
      expiresAt,
      lastActiveAt: createdAt,
      createdAt,
      ipAddress: '203.0.113.5',
      userAgent: 'Mozilla/5.0 (Retention)',
    });
    const inAMonth = new Date(Date.now() + 30 * DAY);
    const groups = {
      oldSessions: Array.from({ length: 20 }, () => session(ago(45), inAMonth)),
      newSessions: Array.from({ length: 5 }, () => session(ago(5), inAMonth)),
      expiredSessions: Array.from({ length: 9 }, () => session(ago(60), ago(1))),
    };
    for (const rows of Object.values(groups)) await dataSource.getRepository(Session).insert(rows);
    const verification = (expiresAt: Date) => ({
      id: randomUUID(),
      identifier: `${userId}:r`,
      type: 'test:retention',
      valueHash: randomBytes(32).toString('hex'),
      expiresAt,
      attempts: 0,
    });
    const expired = Array.from({ length: 15 }, () => verification(ago(1)));
    const live = Array.from({ length: 3 }, () => verification(new Date(Date.now() + 3600_000)));
    await dataSource.getRepository(Verification).insert([...expired, ...live]);
    const event = (createdAt: Date) => ({
      id: randomUUID(),
      userId,
      type: 'sign_in.succeeded',
      method: 'password',
      ip: '198.51.100.2',
      userAgent: 'Mozilla/5.0 (Event)',
      detail: null,
      createdAt,
    });
    const events = {
      old: Array.from({ length: 20 }, () => event(ago(45))),
      recent: Array.from({ length: 5 }, () => event(ago(2))),
      ancient: Array.from({ length: 9 }, () => event(ago(500))),
    };
    for (const rows of Object.values(events)) await dataSource.getRepository(SecurityEvent).insert(rows);
    const ids = (rows: { id: string }[]) => rows.map((row) => row.id);
    return {
      sessions: { old: ids(groups.oldSessions), recent: ids(groups.newSessions), expired: ids(groups.expiredSessions) },
      verifications: { expired: ids(expired), live: ids(live) },
      events: { old: ids(events.old), recent: ids(events.recent), ancient: ids(events.ancient) },
    };
  }

  it('deletes expired rows, erases old client details and keeps newer ones, across several batches', async () => {
    const seeded = await seed();
    const report = await t.app.get(ArrafAuthRetention).apply();
    // Each count is above the batch size of 7: a run that stopped after one batch would report 7.
    expect(report).toEqual({
      expiredSessions: 9,
      expiredVerifications: 15,
      sessionsAnonymised: 20,
      eventsAnonymised: 20,
      eventsDeleted: 9,
    });
    const dataSource = t.app.get(DataSource);
    const sessions = dataSource.getRepository(Session);
    expect(await sessions.countBy({ id: In(seeded.sessions.expired) })).toBe(0);
    for (const row of await sessions.findBy({ id: In(seeded.sessions.old) }))
      expect([row.ipAddress, row.userAgent, row.tokenHash.length]).toEqual([null, null, 64]);
    expect(await sessions.countBy({ id: In(seeded.sessions.old) })).toBe(20);
    for (const row of await sessions.findBy({ id: In(seeded.sessions.recent) }))
      expect([row.ipAddress, row.userAgent]).toEqual(['203.0.113.5', 'Mozilla/5.0 (Retention)']);

    const verifications = dataSource.getRepository(Verification);
    expect(await verifications.countBy({ id: In(seeded.verifications.expired) })).toBe(0);
    expect(await verifications.countBy({ id: In(seeded.verifications.live) })).toBe(3);

    const events = dataSource.getRepository(SecurityEvent);
    expect(await events.countBy({ id: In(seeded.events.ancient) })).toBe(0);
    const old = await events.findBy({ id: In(seeded.events.old) });
    expect(old).toHaveLength(20);
    for (const row of old) expect([row.ip, row.userAgent, row.type]).toEqual([null, null, 'sign_in.succeeded']);
    for (const row of await events.findBy({ id: In(seeded.events.recent) }))
      expect([row.ip, row.userAgent]).toEqual(['198.51.100.2', 'Mozilla/5.0 (Event)']);

    // A second run finds nothing left to do.
    expect(await t.app.get(ArrafAuthRetention).apply()).toEqual({
      expiredSessions: 0,
      expiredVerifications: 0,
      sessionsAnonymised: 0,
      eventsAnonymised: 0,
      eventsDeleted: 0,
    });
  });

  it('with deleteExpired and ipAddressesAfterDays off, keeps expired rows and addresses (the defaults keep events)', async () => {
    const other = await createAccountDataApp(database.options, {
      auth: { retention: { deleteExpired: false, ipAddressesAfterDays: false } },
    });
    try {
      const seeded = await seed();
      expect(await other.app.get(ArrafAuthRetention).apply()).toEqual({
        expiredSessions: 0,
        expiredVerifications: 0,
        sessionsAnonymised: 0,
        eventsAnonymised: 0,
        eventsDeleted: 0,
      });
      const dataSource = other.app.get(DataSource);
      expect(await dataSource.getRepository(Session).countBy({ id: In(seeded.sessions.expired) })).toBe(9);
      expect(await dataSource.getRepository(Verification).countBy({ id: In(seeded.verifications.expired) })).toBe(15);
      expect(await dataSource.getRepository(SecurityEvent).countBy({ id: In(seeded.events.ancient) })).toBe(9);
      const old = await dataSource.getRepository(Session).findBy({ id: In(seeded.sessions.old) });
      expect(old.every((row) => row.ipAddress === '203.0.113.5')).toBe(true);
    } finally {
      await other.app.close();
      // Leave nothing expired behind for the other test's exact counts.
      await t.app.get(ArrafAuthRetention).apply();
    }
  });
});

describe('retention options', () => {
  it.each([
    [{ ipAddressesAfterDays: 0 }, 'retention.ipAddressesAfterDays'],
    [{ ipAddressesAfterDays: 1.5 }, 'retention.ipAddressesAfterDays'],
    [{ ipAddressesAfterDays: true }, 'retention.ipAddressesAfterDays'],
    [{ securityEventsAfterDays: 99999 }, 'retention.securityEventsAfterDays'],
    [{ batchSize: 0 }, 'retention.batchSize'],
    [{ deleteExpired: 'yes' }, 'retention.deleteExpired'],
    [{ keepForever: true }, 'retention.keepForever'],
    ['90d', 'retention'],
  ])('refuses %j at boot, naming %s', async (retention, path) => {
    const { resolveArrafAuthOptions } = await import('../../src/options/arraf-auth-options.resolver.js');
    expect(() => resolveArrafAuthOptions({ secret: TEST_SECRET, retention } as never)).toThrow(ArrafAuthConfigError);
    expect(() => resolveArrafAuthOptions({ secret: TEST_SECRET, retention } as never)).toThrow(
      new RegExp(`invalid option ${path.replace('.', '\\.')}:`),
    );
  });

  it('defaults: expired rows deleted, addresses erased after 90 days, events kept, batches of 1000', async () => {
    const { resolveArrafAuthOptions } = await import('../../src/options/arraf-auth-options.resolver.js');
    expect(resolveArrafAuthOptions({ secret: TEST_SECRET }).retention).toEqual({
      deleteExpired: true,
      ipAddressesAfterDays: 90,
      securityEventsAfterDays: false,
      batchSize: 1000,
    });
  });
});
