import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { Account, Session } from '../../src/index.js';
import { SecurityEvent } from '../../src/security-events/security-event.entity.js';
import { createTestSession } from '../../src/testing/index.js';
import type { Platform } from '../apps/test-app.js';
import { type TestDatabase, testDatabases } from '../helpers/databases.js';
import { APP_URL, type OAuthTestEnvironment, startOAuthEnvironment } from '../helpers/oauth-app.js';
import {
  authorizeAt,
  callApp,
  CHECK_COOKIE,
  cookieNamed,
  expectError,
  expectNoSession,
  signInVia,
  SESSION_COOKIE,
  unique,
} from '../helpers/oauth-flow.js';

const PLATFORMS: Platform[] = ['express', 'fastify'];
const CASES = testDatabases().flatMap((db) => PLATFORMS.map((platform) => ({ db, platform, name: db.name })));

describe.each(CASES)('linking a provider while signed in on $name ($platform)', ({ db, platform }) => {
  let database: Awaited<ReturnType<TestDatabase['create']>>;
  let env: OAuthTestEnvironment;
  let app: INestApplication;

  beforeAll(async () => {
    database = await db.create();
    env = await startOAuthEnvironment(database.options, { platform });
    app = env.app;
  });

  afterAll(async () => {
    await env?.close();
    await database?.drop();
  });

  const http = () => request(app.getHttpServer());
  const accounts = () => app.get(DataSource).getRepository(Account);

  /** A signed-in (fresh) phone user: one way in. */
  async function signedIn() {
    const phone = `+96658${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`;
    return createTestSession(app, { phone, phoneVerified: true, email: `${unique()}@example.com` });
  }

  /** `GET link/:provider` → provider → callback, carrying the session cookie throughout. */
  async function linkVia(providerId: string, cookie: string, query: Record<string, string> = {}) {
    const started = await http().get(`/auth/link/${providerId}`).query(query).set('Cookie', cookie);
    expect(started.status).toBe(302);
    const check = cookieNamed(started, CHECK_COOKIE)!;
    const authorizeUrl = new URL(started.headers.location);
    expect(authorizeUrl.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorizeUrl.searchParams.get('state')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(authorizeUrl.searchParams.get('nonce')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const callbackUrl = await authorizeAt(authorizeUrl);
    const checkCookie = `${CHECK_COOKIE}=${check.value}`;
    return { callbackUrl, checkCookie, callback: await callApp(app, callbackUrl, `${checkCookie}; ${cookie}`) };
  }

  it('links the identity to the signed-in user and redirects without a new session; GET account/methods lists it', async () => {
    const { cookie, user } = await signedIn();
    const sub = `link-${unique()}`;
    // The provider's email is someone else's and unverified: it decides nothing when linking.
    env.oidcProvider.nextLogin({ sub, email: `other-${sub}@example.com`, email_verified: false });
    const { callback } = await linkVia('oidc', cookie, { redirectTo: '/settings' });
    expect(callback.status).toBe(302);
    expect(callback.headers.location).toBe('/settings');
    expectNoSession(callback);
    const rows = await accounts().findBy({ providerId: 'oidc', accountId: sub });
    expect(rows.map((r) => r.userId)).toEqual([user.id]);

    const methods = await http().get('/auth/account/methods').set('Cookie', cookie).expect(200);
    expect(methods.body.providers).toStrictEqual([
      { id: rows[0].id, providerId: 'oidc', linkedAt: expect.any(String) },
    ]);
    const events = await app.get(DataSource).getRepository(SecurityEvent).findBy({ userId: user.id });
    expect(events.map((e) => [e.type, e.method])).toContainEqual(['method.added', 'oauth:oidc']);

    // The linked identity now signs in to this user.
    env.oidcProvider.nextLogin({ sub, email: `other-${sub}@example.com`, email_verified: false });
    const signIn = await signInVia(app, 'oidc');
    expect(signIn.sessionCookie).toBeDefined();
    const session = await http().get('/auth/session').set('Cookie', signIn.sessionCookie!).expect(200);
    expect(session.body.user.id).toBe(user.id);
  });

  it('refuses an identity that belongs to another user (409 OAUTH_ACCOUNT_IN_USE): no takeover', async () => {
    const sub = `owned-${unique()}`;
    env.googleProvider.nextLogin({ sub, email: `${sub}@example.com`, email_verified: true });
    const owner = await signInVia(app, 'google');
    const ownerId = (await http().get('/auth/session').set('Cookie', owner.sessionCookie!)).body.user.id;

    const { cookie, user } = await signedIn();
    env.googleProvider.nextLogin({ sub, email: `${sub}@example.com`, email_verified: true });
    const { callback } = await linkVia('google', cookie);
    expectError(callback, 409, 'OAUTH_ACCOUNT_IN_USE');
    expectNoSession(callback);
    expect((await accounts().findBy({ providerId: 'google', accountId: sub })).map((r) => r.userId)).toEqual([ownerId]);
    expect(await accounts().countBy({ userId: user.id })).toBe(0);
  });

  it('links an identity the user already has without a second row', async () => {
    const { cookie, user } = await signedIn();
    const sub = `twice-${unique()}`;
    env.oidcProvider.nextLogin({ sub });
    expect((await linkVia('oidc', cookie)).callback.status).toBe(302);
    env.oidcProvider.nextLogin({ sub });
    expect((await linkVia('oidc', cookie)).callback.status).toBe(302);
    expect(await accounts().countBy({ userId: user.id, providerId: 'oidc' })).toBe(1);
  });

  it('needs a fresh session to start, and the same session at the callback', async () => {
    expectError(await http().get('/auth/link/oidc'), 401, 'UNAUTHENTICATED');
    const { cookie, user } = await signedIn();
    expectError(await http().get('/auth/link/nope').set('Cookie', cookie), 404, 'UNKNOWN_PROVIDER');

    // Started, then completed without the session: refused, nothing linked.
    const sub = `nosession-${unique()}`;
    env.oidcProvider.nextLogin({ sub });
    const started = await http().get('/auth/link/oidc').set('Cookie', cookie).expect(302);
    const callbackUrl = await authorizeAt(new URL(started.headers.location));
    const checkCookie = `${CHECK_COOKIE}=${cookieNamed(started, CHECK_COOKIE)!.value}`;
    const refused = await callApp(app, callbackUrl, checkCookie);
    expectError(refused, 401, 'UNAUTHENTICATED');
    expectNoSession(refused);
    // Nor with another user's session.
    const other = await signedIn();
    env.oidcProvider.nextLogin({ sub });
    const again = await http().get('/auth/link/oidc').set('Cookie', cookie).expect(302);
    const url2 = await authorizeAt(new URL(again.headers.location));
    const check2 = `${CHECK_COOKIE}=${cookieNamed(again, CHECK_COOKIE)!.value}`;
    expectError(await callApp(app, url2, `${check2}; ${other.cookie}`), 401, 'UNAUTHENTICATED');
    expect(await accounts().countBy({ providerId: 'oidc', accountId: sub })).toBe(0);

    await app
      .get(DataSource)
      .getRepository(Session)
      .update({ userId: user.id }, { createdAt: new Date(Date.now() - 2 * 86_400_000) });
    expectError(await http().get('/auth/link/oidc').set('Cookie', cookie), 403, 'SESSION_NOT_FRESH');
  });

  it('unlinks an identity (fresh, origin-checked) but never the last way in', async () => {
    const sub = `only-${unique()}`;
    env.oidcProvider.nextLogin({ sub, email: `${sub}@example.com`, email_verified: true });
    const flow = await signInVia(app, 'oidc');
    const cookie = flow.sessionCookie!;
    const [identity] = await accounts().findBy({ providerId: 'oidc', accountId: sub });
    const unlink = (id: string, headers: Record<string, string> = { Origin: APP_URL }) =>
      http().delete(`/auth/account/providers/${id}`).set(headers).set('Cookie', cookie);

    expectError(await unlink(identity.id), 409, 'LAST_SIGN_IN_METHOD');
    expectError(await unlink(identity.id, { Origin: 'https://evil.example' }), 403, 'INVALID_ORIGIN');
    expectError(await unlink(identity.id, {}), 403, 'INVALID_ORIGIN');

    // A second identity makes the first removable.
    env.googleProvider.nextLogin({ sub: `second-${sub}` });
    expect((await linkVia('google', cookie)).callback.status).toBe(302);
    await unlink(identity.id).expect(200);
    expect(await accounts().countBy({ id: identity.id })).toBe(0);
    expectError(await unlink(identity.id), 404, 'SIGN_IN_METHOD_NOT_FOUND');

    // Someone else's identity is not found for this user.
    const stranger = await signedIn();
    env.oidcProvider.nextLogin({ sub: `stranger-${sub}` });
    await linkVia('oidc', stranger.cookie);
    const [theirs] = await accounts().findBy({ userId: stranger.user.id });
    expectError(await unlink(theirs.id), 404, 'SIGN_IN_METHOD_NOT_FOUND');
    expect(await accounts().countBy({ id: theirs.id })).toBe(1);
  });

  it('keeps the sign-in callback as it was: a plain sign-in still creates a session', async () => {
    env.oidcProvider.nextLogin({ sub: `plain-${unique()}` });
    const flow = await signInVia(app, 'oidc');
    expect(flow.callback.status).toBe(302);
    expect(cookieNamed(flow.callback, SESSION_COOKIE)).toBeDefined();
  });
});
