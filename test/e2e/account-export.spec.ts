import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import { SecurityEvent } from '../../src/index.js';
import type { SecurityTestApp } from '../apps/security-test-app.js';
import { type TestDatabase, testDatabases } from '../helpers/databases.js';
import { createAccountDataApp, richAccount } from './account-data.fixture.js';

/**
 * `GET /auth/account/export` (issue 18, checklist A4): everything the module stores about the
 * signed-in user, and no secret, hash or token: every one the test created or read from the
 * database is searched for in the JSON.
 */
describe.each(testDatabases())('account export on $name', (db: TestDatabase) => {
  let database: Awaited<ReturnType<TestDatabase['create']>>;
  let t: SecurityTestApp;

  beforeAll(async () => {
    database = await db.create();
    t = await createAccountDataApp(database.options);
  });

  afterAll(async () => {
    await t?.app.close();
    await database?.drop();
  });

  it('returns the user, methods, sessions, passkeys, second factor, pending secrets and events', async () => {
    const user = await richAccount(t);
    const res = await t.http().get('/auth/account/export').set('Cookie', user.cookie);
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['content-disposition']).toMatch(/^attachment; filename="account-export.json"$/);
    const data = res.body;
    expect(data.user).toMatchObject({ id: user.id, email: user.email, phone: user.phone, phoneVerified: true });
    expect(data.accounts.map((a: { providerId: string }) => a.providerId).sort()).toEqual(['credential', 'oidc']);
    expect(data.accounts.find((a: { providerId: string }) => a.providerId === 'oidc')).toMatchObject({
      accountId: expect.stringMatching(/^sub-/),
      scope: 'openid email',
      createdAt: expect.any(String),
    });
    expect(data.sessions).toHaveLength(2);
    for (const session of data.sessions) {
      expect(Object.keys(session).sort()).toEqual([
        'createdAt',
        'expiresAt',
        'id',
        'ipAddress',
        'lastActiveAt',
        'userAgent',
      ]);
    }
    expect(data.sessions.map((s: { userAgent: string | null }) => s.userAgent)).toContain('BearerClient/1.0');
    expect(data.passkeys).toEqual([
      expect.objectContaining({ name: 'Work laptop', deviceType: 'singleDevice', createdAt: expect.any(String) }),
    ]);
    expect(data.twoFactor).toEqual({ enabled: true, createdAt: expect.any(String) });
    expect(data.signInMethodMarks).toMatchObject({ userId: user.id, phoneAddedAt: expect.any(String) });
    const types = data.pendingVerifications.map((v: { type: string }) => v.type);
    expect(types.filter((type: string) => type === 'two-factor:backup-code')).toHaveLength(10);
    expect(types).toEqual(expect.arrayContaining(['email:reset-password', 'otp:sign-in']));
    for (const pending of data.pendingVerifications) expect(Object.keys(pending).sort()).toEqual(['expiresAt', 'type']);
    // Newest first: the planted event, then what the flows recorded (two-factor enrolment, the two sign-ins).
    expect(data.securityEvents[0]).toMatchObject({ type: 'sign_in.succeeded', method: 'password', ip: '203.0.113.9' });
    const recorded = data.securityEvents.map((e: { type: string }) => e.type);
    expect(recorded).toEqual(expect.arrayContaining(['two_factor.enabled', 'sign_in.succeeded']));
    const times = data.securityEvents.map((e: { createdAt: string }) => Date.parse(e.createdAt));
    expect(times).toEqual([...times].sort((a: number, b: number) => b - a));
  });

  it('contains no secret, hash or token: none of the values the test created or read from the database', async () => {
    const user = await richAccount(t);
    const res = await t.http().get('/auth/account/export').set('Authorization', `Bearer ${user.bearer}`).expect(200);
    const text = JSON.stringify(res.body);
    expect(user.secrets.length).toBeGreaterThanOrEqual(30);
    const found = user.secrets.filter((secret) => text.includes(secret));
    expect(found).toEqual([]);
    for (const field of [
      'password',
      'tokenHash',
      'valueHash',
      'accessToken',
      'refreshToken',
      'idToken',
      'secret',
      'counter',
    ])
      expect(text).not.toContain(`"${field}":`);
  });

  it('records the export as an account.exported event with the client, and shows only the owner', async () => {
    const owner = await richAccount(t);
    const other = await richAccount(t);
    const res = await t
      .http()
      .get('/auth/account/export')
      .set('Cookie', owner.cookie)
      .set('User-Agent', 'ExportBrowser/2.0')
      .set('X-Forwarded-For', '198.51.100.7')
      .expect(200);
    const text = JSON.stringify(res.body);
    for (const value of [other.id, other.email, other.phone]) expect(text).not.toContain(value);
    const events = await t.app
      .get(DataSource)
      .getRepository(SecurityEvent)
      .findBy({ userId: owner.id, type: 'account.exported' });
    expect(events).toEqual([expect.objectContaining({ ip: '198.51.100.7', userAgent: 'ExportBrowser/2.0' })]);
    const next = await t.http().get('/auth/account/export').set('Cookie', owner.cookie).expect(200);
    expect(next.body.securityEvents[0]).toMatchObject({ type: 'account.exported', ip: '198.51.100.7' });
  });

  it('needs a session (401 UNAUTHENTICATED)', async () => {
    const res = await t.http().get('/auth/account/export');
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('UNAUTHENTICATED');
  });
});
