import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Test as Request } from 'supertest';
import { DataSource, Not } from 'typeorm';
import { SignInMethodMarks } from '../../src/accounts/sign-in-method-marks.entity.js';
import { Account, github } from '../../src/index.js';
import { SecurityEvent } from '../../src/security-events/security-event.entity.js';
import { createTestSession } from '../../src/testing/index.js';
import { GOOD_PASSWORD, sessionCookie } from '../apps/password-test-app.js';
import {
  APP_ORIGIN,
  createSecurityTestApp,
  randomIpv4,
  type SecurityTestApp,
  uniqueEmail,
  uniquePhone,
} from '../apps/security-test-app.js';
import type { Platform } from '../apps/test-app.js';
import { type DatabaseSnapshot, snapshotDatabase } from '../helpers/db-snapshot.js';
import { type TestDatabase, testDatabases } from '../helpers/databases.js';
import { expectError } from './otp.helpers.js';

/**
 * CSRF: every state-changing route, reached with a valid session cookie from another site, is
 * refused with 403 INVALID_ORIGIN and changes nothing; the same request from the app's own origin
 * succeeds (so the refusal is the origin's doing, not a bad request). GET routes change nothing,
 * whoever calls them. The origin check does not touch the database, so SQLite is enough.
 */
const EVIL = 'https://evil.example';
const NEW_PASSWORD = 'a brand new passphrase for 2026';

type Send = (headers: Record<string, string>) => Request;

interface Scenario {
  /** The route, as the SPEC names it. */
  route: string;
  /** Creates what the request needs (a signed-in user, a code) and returns the request, headers aside. */
  setup(t: SecurityTestApp): Promise<Send>;
  /** What the same request answers from the app's own origin. */
  trustedStatus: number;
  /**
   * Whether the route refuses the cookie request when it carries neither Origin nor Referer
   * (the library's routes, by default); the application's own routes are left to SessionGuard.
   */
  refusesMissingOrigin?: false;
}

interface Victim {
  email: string;
  cookie: string;
  sessionId: string;
}

async function signUp(t: SecurityTestApp, phone?: string): Promise<Victim> {
  const email = uniqueEmail('victim');
  const res = await t
    .http()
    .post('/auth/sign-up')
    .set('X-Forwarded-For', randomIpv4())
    .send({ email, password: GOOD_PASSWORD, ...(phone ? { phone } : {}) });
  expect(res.status).toBe(201);
  return { email, cookie: sessionCookie(res), sessionId: res.body.session.id };
}

async function secondSession(t: SecurityTestApp, v: Victim): Promise<{ cookie: string; sessionId: string }> {
  const res = await t.http().post('/auth/sign-in').send({ method: 'email', email: v.email, password: GOOD_PASSWORD });
  expect(res.status).toBe(200);
  return { cookie: sessionCookie(res), sessionId: res.body.session.id };
}

const post =
  (t: SecurityTestApp, path: string, cookie: string, body?: object): Send =>
  (headers) => {
    const req = t.http().post(path).set('Cookie', cookie).set('X-Forwarded-For', randomIpv4()).set(headers);
    return body === undefined ? req : req.send(body);
  };

const del =
  (t: SecurityTestApp, path: string, cookie: string, body?: object): Send =>
  (headers) => {
    const req = t.http().delete(path).set('Cookie', cookie).set('X-Forwarded-For', randomIpv4()).set(headers);
    return body === undefined ? req : req.send(body);
  };

/** A change-phone code sent from the app's own page for `v`: the number and its code. */
async function phoneCode(t: SecurityTestApp, v: Victim): Promise<{ phone: string; otp: string }> {
  const phone = uniquePhone();
  const res = await post(t, '/auth/account/phone/send', v.cookie, { phone: phone.local })({ Origin: APP_ORIGIN });
  expect(res.status).toBe(200);
  return { phone: phone.local, otp: t.sms.lastCodeFor(phone.e164)! };
}

/**
 * A user whose email-proven reset flagged a phone someone added (`unrecognised`), signed in again
 * with the new password: what `POST account/methods/acknowledge` clears.
 */
async function flaggedOwner(t: SecurityTestApp): Promise<Victim> {
  const v = await signUp(t);
  const { phone, otp } = await phoneCode(t, v);
  expect((await post(t, '/auth/account/phone', v.cookie, { phone, otp })({ Origin: APP_ORIGIN })).status).toBe(200);
  expect((await t.http().post('/auth/forgot-password').send({ method: 'email', email: v.email })).status).toBe(200);
  const code = t.mail.filter((m) => m.delivery.identifier === v.email).at(-1)!.delivery.code;
  const reset = await t
    .http()
    .post('/auth/reset-password')
    .send({ method: 'email', email: v.email, otp: code, newPassword: NEW_PASSWORD });
  expect(reset.body.unrecognised).toHaveLength(1);
  const signIn = await t.http().post('/auth/sign-in').send({ method: 'email', email: v.email, password: NEW_PASSWORD });
  expect(signIn.status).toBe(200);
  return { email: v.email, cookie: sessionCookie(signIn), sessionId: signIn.body.session.id };
}

const scenarios: Scenario[] = [
  {
    route: 'POST /auth/otp/send',
    trustedStatus: 200,
    async setup(t) {
      const v = await signUp(t);
      return post(t, '/auth/otp/send', v.cookie, { method: 'phone', phone: uniquePhone().local });
    },
  },
  {
    route: 'POST /auth/otp/verify',
    trustedStatus: 200,
    async setup(t) {
      const v = await signUp(t);
      const phone = uniquePhone();
      expect((await t.http().post('/auth/otp/send').send({ method: 'phone', phone: phone.local })).status).toBe(200);
      return post(t, '/auth/otp/verify', v.cookie, {
        method: 'phone',
        phone: phone.local,
        otp: t.sms.lastCodeFor(phone.e164),
      });
    },
  },
  {
    route: 'POST /auth/sign-up',
    trustedStatus: 201,
    async setup(t) {
      const v = await signUp(t);
      return post(t, '/auth/sign-up', v.cookie, { email: uniqueEmail('new'), password: GOOD_PASSWORD });
    },
  },
  {
    route: 'POST /auth/sign-in (email)',
    trustedStatus: 200,
    async setup(t) {
      const v = await signUp(t);
      return post(t, '/auth/sign-in', v.cookie, { method: 'email', email: v.email, password: GOOD_PASSWORD });
    },
  },
  {
    route: 'POST /auth/sign-in (phone)',
    trustedStatus: 200,
    async setup(t) {
      const v = await signUp(t);
      return post(t, '/auth/sign-in', v.cookie, { method: 'phone', phone: uniquePhone().local });
    },
  },
  {
    route: 'POST /auth/sign-out',
    trustedStatus: 200,
    async setup(t) {
      const v = await signUp(t);
      return post(t, '/auth/sign-out', v.cookie);
    },
  },
  {
    route: 'DELETE /auth/sessions/:id',
    trustedStatus: 200,
    async setup(t) {
      const v = await signUp(t);
      const other = await secondSession(t, v);
      return (headers) => t.http().delete(`/auth/sessions/${other.sessionId}`).set('Cookie', v.cookie).set(headers);
    },
  },
  {
    route: 'POST /auth/sessions/revoke-others',
    trustedStatus: 200,
    async setup(t) {
      const v = await signUp(t);
      await secondSession(t, v);
      return post(t, '/auth/sessions/revoke-others', v.cookie);
    },
  },
  {
    route: 'POST /auth/change-password',
    trustedStatus: 200,
    async setup(t) {
      const v = await signUp(t);
      await secondSession(t, v);
      return post(t, '/auth/change-password', v.cookie, { currentPassword: GOOD_PASSWORD, newPassword: NEW_PASSWORD });
    },
  },
  {
    route: 'POST /auth/forgot-password (email)',
    trustedStatus: 200,
    async setup(t) {
      const v = await signUp(t);
      return post(t, '/auth/forgot-password', v.cookie, { method: 'email', email: v.email });
    },
  },
  {
    route: 'POST /auth/forgot-password (phone)',
    trustedStatus: 200,
    async setup(t) {
      const v = await signUp(t);
      return post(t, '/auth/forgot-password', v.cookie, { method: 'phone', phone: uniquePhone().local });
    },
  },
  {
    route: 'POST /auth/reset-password',
    trustedStatus: 200,
    async setup(t) {
      const v = await signUp(t);
      expect((await t.http().post('/auth/forgot-password').send({ method: 'email', email: v.email })).status).toBe(200);
      const code = t.mail.filter((m) => m.delivery.identifier === v.email).at(-1)!.delivery.code;
      return post(t, '/auth/reset-password', v.cookie, {
        method: 'email',
        email: v.email,
        otp: code,
        newPassword: NEW_PASSWORD,
      });
    },
  },
  {
    route: 'POST /auth/verify-email/send',
    trustedStatus: 200,
    async setup(t) {
      const v = await signUp(t);
      return post(t, '/auth/verify-email/send', v.cookie, {});
    },
  },
  {
    route: 'POST /auth/verify-email',
    trustedStatus: 200,
    async setup(t) {
      const v = await signUp(t);
      const send = t.http().post('/auth/verify-email/send').set('Cookie', v.cookie).set('Origin', APP_ORIGIN);
      expect((await send.send({})).status).toBe(200);
      const code = t.mail.filter((m) => m.delivery.identifier === v.email).at(-1)!.delivery.code;
      return post(t, '/auth/verify-email', v.cookie, { email: v.email, otp: code });
    },
  },
  {
    route: 'POST /auth/account/phone/send',
    trustedStatus: 200,
    async setup(t) {
      const v = await signUp(t);
      return post(t, '/auth/account/phone/send', v.cookie, { phone: uniquePhone().local });
    },
  },
  {
    route: 'POST /auth/account/email/send',
    trustedStatus: 200,
    async setup(t) {
      const v = await signUp(t);
      return post(t, '/auth/account/email/send', v.cookie, { email: uniqueEmail('new') });
    },
  },
  {
    route: 'DELETE /auth/account/password (the last way in: refused with 409 once past the origin check)',
    trustedStatus: 409,
    async setup(t) {
      const v = await signUp(t);
      return (headers) =>
        t
          .http()
          .delete('/auth/account/password')
          .set('Cookie', v.cookie)
          .set('X-Forwarded-For', randomIpv4())
          .set(headers)
          .send({ currentPassword: GOOD_PASSWORD });
    },
  },
  {
    route: 'POST /auth/account/phone',
    trustedStatus: 200,
    async setup(t) {
      const v = await signUp(t);
      return post(t, '/auth/account/phone', v.cookie, await phoneCode(t, v));
    },
  },
  {
    route: 'DELETE /auth/account/phone',
    trustedStatus: 200,
    async setup(t) {
      const v = await signUp(t);
      const { phone, otp } = await phoneCode(t, v);
      expect((await post(t, '/auth/account/phone', v.cookie, { phone, otp })({ Origin: APP_ORIGIN })).status).toBe(200);
      return del(t, '/auth/account/phone', v.cookie);
    },
  },
  {
    route: 'POST /auth/account/email',
    trustedStatus: 200,
    async setup(t) {
      const v = await signUp(t);
      const email = uniqueEmail('next');
      const sent = await post(t, '/auth/account/email/send', v.cookie, { email })({ Origin: APP_ORIGIN });
      expect(sent.status).toBe(200);
      const code = t.mail.filter((m) => m.delivery.identifier === email).at(-1)!.delivery.code;
      return post(t, '/auth/account/email', v.cookie, { email, otp: code });
    },
  },
  {
    route: 'POST /auth/account/password',
    trustedStatus: 200,
    async setup(t) {
      const { cookie } = await createTestSession(t.app, { phone: uniquePhone().e164, phoneVerified: true });
      return post(t, '/auth/account/password', cookie, { newPassword: NEW_PASSWORD });
    },
  },
  {
    route: 'DELETE /auth/account/providers/:id',
    trustedStatus: 200,
    async setup(t) {
      const v = await signUp(t);
      const { user } = (await t.http().get('/auth/session').set('Cookie', v.cookie)).body as { user: { id: string } };
      const id = randomUUID();
      await t.app
        .get(DataSource)
        .getRepository(Account)
        .insert({ id, userId: user.id, providerId: 'github', accountId: `gh-${id}` });
      return del(t, `/auth/account/providers/${id}`, v.cookie);
    },
  },
  {
    route: 'POST /auth/account/methods/acknowledge',
    trustedStatus: 200,
    async setup(t) {
      const v = await flaggedOwner(t);
      return post(t, '/auth/account/methods/acknowledge', v.cookie, { currentPassword: NEW_PASSWORD });
    },
  },
  {
    route: 'POST /auth/account/delete/code',
    trustedStatus: 200,
    async setup(t) {
      const { cookie } = await createTestSession(t.app, { phone: uniquePhone().e164, phoneVerified: true });
      return post(t, '/auth/account/delete/code', cookie);
    },
  },
  {
    route: 'DELETE /auth/account',
    trustedStatus: 200,
    async setup(t) {
      const v = await signUp(t);
      return del(t, '/auth/account', v.cookie, { password: GOOD_PASSWORD });
    },
  },
  {
    route: "POST /me/update (the application's own route behind SessionGuard)",
    trustedStatus: 201,
    refusesMissingOrigin: false,
    async setup(t) {
      const v = await signUp(t);
      return post(t, '/me/update', v.cookie);
    },
  },
];

interface Observed {
  db: DatabaseSnapshot;
  /** `sign_in_method_marks` rows (what acknowledging clears) and how many security events exist (failed sign-ins aside). */
  marks: SignInMethodMarks[];
  events: number;
  sms: number;
  mail: number;
}

async function observe(t: SecurityTestApp): Promise<Observed> {
  const dataSource = t.app.get(DataSource);
  return {
    db: await snapshotDatabase(dataSource),
    marks: await dataSource.getRepository(SignInMethodMarks).find({ order: { userId: 'ASC' } }),
    // A refused sign-in (the callback without a valid state) records `sign_in.failed` by design.
    events: await dataSource.getRepository(SecurityEvent).countBy({ type: Not('sign_in.failed') }),
    sms: t.sms.messages.length,
    mail: t.mail.length,
  };
}

describe.each<Platform>(['express', 'fastify'])('origin checks on %s', (platform) => {
  let database: Awaited<ReturnType<TestDatabase['create']>>;
  let t: SecurityTestApp;

  beforeAll(async () => {
    database = await testDatabases()[0].create();
    t = await createSecurityTestApp({
      database: database.options,
      platform,
      auth: {
        otp: { resendCooldown: 0 },
        providers: [
          github({
            clientId: 'Iv1.origin-test',
            clientSecret: 'origin-test-secret',
            redirectUri: `${APP_ORIGIN}/auth/callback/github`,
          }),
        ],
      },
    });
  });

  afterAll(async () => {
    await t?.app.close();
    await database?.drop();
  });

  it.each(scenarios.map((s) => [s.route, s] as const))(
    'refuses %s from another site (Origin, then Referer, then neither) with 403 INVALID_ORIGIN and changes nothing; the same request from the app succeeds',
    async (_route, scenario) => {
      const send = await scenario.setup(t);
      const before = await observe(t);
      expectError(await send({ Origin: EVIL }), 403, 'INVALID_ORIGIN');
      expectError(await send({ Referer: `${EVIL}/csrf.html` }), 403, 'INVALID_ORIGIN');
      expectError(await send({ Origin: 'null' }), 403, 'INVALID_ORIGIN');
      // A browser always sends Origin on a cross-site POST/DELETE: a cookie request without
      // Origin or Referer is not one from the app's own page.
      if (scenario.refusesMissingOrigin !== false) expectError(await send({}), 403, 'INVALID_ORIGIN');
      expect(await observe(t)).toEqual(before);

      const trusted = await send({ Origin: APP_ORIGIN });
      expect({ route: scenario.route, status: trusted.status }).toEqual({
        route: scenario.route,
        status: scenario.trustedStatus,
      });
    },
  );

  it('refuses GET /auth/account/export from another site (Origin, Referer, Sec-Fetch-Site) with 403 and records nothing; the app and a typed address get it', async () => {
    const v = await signUp(t);
    const exportFrom = (headers: Record<string, string>) =>
      t.http().get('/auth/account/export').set('Cookie', v.cookie).set(headers);
    const before = await observe(t);
    expectError(await exportFrom({ Origin: EVIL }), 403, 'INVALID_ORIGIN');
    expectError(await exportFrom({ Referer: `${EVIL}/csrf.html` }), 403, 'INVALID_ORIGIN');
    expectError(await exportFrom({ Origin: 'null' }), 403, 'INVALID_ORIGIN');
    expectError(await exportFrom({ 'Sec-Fetch-Site': 'cross-site' }), 403, 'INVALID_ORIGIN');
    expect(await observe(t)).toEqual(before);

    const trusted: Record<string, string>[] = [
      { Origin: APP_ORIGIN },
      { Referer: `${APP_ORIGIN}/settings`, 'Sec-Fetch-Site': 'same-origin' },
      {},
    ];
    for (const headers of trusted) {
      const res = await exportFrom(headers);
      expect({ headers, status: res.status, email: res.body.user?.email }).toEqual({
        headers,
        status: 200,
        email: v.email,
      });
    }
    // Each export that was served is recorded, and only those.
    expect((await observe(t)).events).toBe(before.events + 3);
  });

  it('changes nothing on any GET route, called cross-site with a valid session cookie', async () => {
    const v = await signUp(t);
    const paths = [
      '/auth/session',
      '/auth/sessions',
      '/me',
      '/auth/sign-in/github?redirectTo=/home',
      '/auth/callback/github?code=c&state=s',
      // GET on every state-changing path: no route answers, nothing happens.
      '/auth/sign-out',
      '/auth/sessions/revoke-others',
      `/auth/sessions/${v.sessionId}`,
      '/auth/otp/send?method=phone&phone=0551234567',
      '/auth/otp/verify',
      '/auth/sign-up?email=x@example.com&password=correct+horse+battery+staple',
      '/auth/sign-in',
      '/auth/change-password',
      '/auth/forgot-password?method=email&email=x@example.com',
      '/auth/reset-password',
      '/auth/verify-email/send',
      '/auth/verify-email',
      '/auth/account/methods',
      '/auth/account/events',
      '/auth/link/github?redirectTo=/home',
      '/auth/account/methods/acknowledge?currentPassword=correct+horse+battery+staple',
      '/auth/account/phone/send?phone=0551234567',
      '/auth/account/phone',
      '/auth/account/email/send?email=x@example.com',
      '/auth/account/email',
      '/auth/account/password',
      `/auth/account/providers/${randomUUID()}`,
      '/auth/account/delete/code',
      '/auth/account?password=correct+horse+battery+staple',
    ];
    const before = await observe(t);
    const statuses: Record<string, number> = {};
    for (const path of paths) {
      const res = await t.http().get(path).set('Cookie', v.cookie).set('Origin', EVIL);
      statuses[path] = res.status;
      expect(res.status).toBeLessThan(500);
    }
    expect(await observe(t)).toEqual(before);
    // The reads did run (so "nothing changed" is not "nothing answered").
    expect(statuses['/auth/session']).toBe(200);
    expect(statuses['/auth/sessions']).toBe(200);
    expect(statuses['/me']).toBe(200);
    expect(statuses['/auth/sign-in/github?redirectTo=/home']).toBe(302);
    expect(statuses['/auth/account/methods']).toBe(200);
    expect(statuses['/auth/account/events']).toBe(200);
    expect(statuses['/auth/link/github?redirectTo=/home']).toBe(302);
    expect(statuses['/auth/account/methods/acknowledge?currentPassword=correct+horse+battery+staple']).toBe(404);
    expect(statuses['/auth/sign-out']).toBe(404);
    expect(statuses['/auth/account/delete/code']).toBe(404);
    expect(statuses['/auth/account?password=correct+horse+battery+staple']).toBe(404);
  });
});
