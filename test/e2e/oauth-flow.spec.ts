import 'reflect-metadata';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Account } from '../../src/entities/account.entity.js';
import { github } from '../../src/oauth/github.provider.js';
import { google } from '../../src/oauth/google.provider.js';
import { oidc } from '../../src/oauth/oidc.provider.js';
import { createTestApp, type Platform } from '../apps/test-app.js';
import { testDatabases } from '../helpers/databases.js';
import {
  CHECK_COOKIE,
  cookieNamed,
  currentSession,
  decodeJwtPayload,
  expectError,
  SESSION_COOKIE,
  signInVia,
  startSignIn,
  unique,
} from '../helpers/oauth-flow.js';
import {
  type FakeGitHub,
  type MockOidcProvider,
  startFakeGitHub,
  startMockOidcProvider,
} from '../helpers/oauth-providers.js';
import request from 'supertest';

const OIDC_CLIENT = { clientId: 'oidc-client', clientSecret: 'oidc-secret-value' };
const GOOGLE_CLIENT = { clientId: 'google-client.apps.example', clientSecret: 'google-secret-value' };
const GITHUB_CLIENT = { clientId: 'Iv1.github-client', clientSecret: 'github-secret-value' };
const APP = 'http://127.0.0.1';
const PLATFORMS: Platform[] = ['express', 'fastify'];
const sqlite = testDatabases().find((db) => db.name === 'sqlite')!;

function s256(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

describe.each(PLATFORMS)('OAuth sign-in flows on %s', (platform) => {
  let database: Awaited<ReturnType<typeof sqlite.create>>;
  let oidcProvider: MockOidcProvider;
  let googleProvider: MockOidcProvider;
  let githubProvider: FakeGitHub;
  let app: INestApplication;

  beforeAll(async () => {
    database = await sqlite.create();
    oidcProvider = await startMockOidcProvider(OIDC_CLIENT);
    // Google's discovery lists client_secret_basic first; the library must pick it.
    googleProvider = await startMockOidcProvider(GOOGLE_CLIENT, {
      authMethods: ['client_secret_basic', 'client_secret_post'],
    });
    githubProvider = await startFakeGitHub(GITHUB_CLIENT);
    app = await createTestApp({
      database: database.options,
      platform,
      globalGuard: true, // the OAuth routes must stay reachable behind a global SessionGuard
      auth: {
        appUrl: 'https://app.example.com',
        providers: [
          oidc({
            ...OIDC_CLIENT,
            issuer: oidcProvider.issuer,
            redirectUri: `${APP}/auth/callback/oidc`,
            allowInsecureRequests: true,
          }),
          google({
            ...GOOGLE_CLIENT,
            issuer: googleProvider.issuer,
            redirectUri: `${APP}/auth/callback/google`,
            allowInsecureRequests: true,
          }),
          github({
            ...GITHUB_CLIENT,
            baseUrl: githubProvider.baseUrl,
            apiBaseUrl: githubProvider.baseUrl,
            redirectUri: `${APP}/auth/callback/github`,
            allowInsecureRequests: true,
          }),
        ],
      },
    });
  });

  afterAll(async () => {
    await app?.close();
    await oidcProvider?.stop();
    await googleProvider?.stop();
    await githubProvider?.stop();
    await database?.drop();
  });

  it('oidc(): redirects to the provider with state, an S256 challenge and a nonce kept in a short-lived httpOnly cookie', async () => {
    const started = await startSignIn(app, 'oidc', { redirectTo: '/dashboard' });
    const url = started.authorizeUrl;
    expect(`${url.origin}${url.pathname}`).toBe(`${oidcProvider.issuer}/authorize`);
    const params = Object.fromEntries(url.searchParams);
    expect(params).toEqual({
      client_id: OIDC_CLIENT.clientId,
      response_type: 'code',
      redirect_uri: `${APP}/auth/callback/oidc`,
      scope: 'openid email profile',
      state: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      code_challenge: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      code_challenge_method: 'S256',
      nonce: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    });
    expect(started.response.headers['cache-control']).toBe('no-store');

    const check = cookieNamed(started.response, CHECK_COOKIE)!;
    expect(check.attributes).toEqual({ path: '/', 'max-age': '600', httponly: true, secure: true, samesite: 'Lax' });
    // The cookie binds the flow to this provider and holds the 43-character verifier of the challenge.
    const payload = decodeJwtPayload(check.value);
    expect(payload).toMatchObject({ pid: 'oidc', st: params.state, nn: params.nonce, rt: '/dashboard' });
    expect(payload.cv).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(s256(payload.cv as string)).toBe(params.code_challenge);
    expect((payload.exp as number) - (payload.iat as number)).toBe(600);
  });

  it('oidc(): completes the flow into a session for a new user, clears the check cookie and lands on redirectTo', async () => {
    const sub = `oidc-${unique()}`;
    oidcProvider.nextLogin({ sub, email: `${sub}@Example.COM`, email_verified: true, name: 'Noura Al-Harbi' });
    const flow = await signInVia(app, 'oidc', { redirectTo: '/welcome?first=1' });

    expect(flow.callback.status).toBe(302);
    expect(flow.callback.headers.location).toBe('/welcome?first=1');
    const cleared = cookieNamed(flow.callback, CHECK_COOKIE)!;
    expect(cleared.attributes['max-age']).toBe('0');
    expect(cookieNamed(flow.callback, SESSION_COOKIE)?.attributes).toMatchObject({ httponly: true, secure: true });

    const session = await currentSession(app, flow.sessionCookie!);
    expect(session.status).toBe(200);
    expect(session.body.user).toEqual({
      id: expect.any(String),
      email: `${sub}@example.com`,
      phone: null,
      name: 'Noura Al-Harbi',
      image: null,
      emailVerified: true,
      phoneVerified: false,
    });
    const accounts = await app.get(DataSource).getRepository(Account).findBy({ userId: session.body.user.id });
    expect(accounts.map((a) => [a.providerId, a.accountId])).toEqual([['oidc', sub]]);

    // The code was exchanged with client_secret_post (the discovery lists no basic), the verifier and the redirect URI.
    const exchange = oidcProvider.tokenRequests.at(-1)!;
    expect(exchange.authMethod).toBe('client_secret_post');
    expect(exchange.body).toMatchObject({
      grant_type: 'authorization_code',
      redirect_uri: `${APP}/auth/callback/oidc`,
      code_verifier: decodeJwtPayload(flow.checkCookieValue).cv,
    });
  });

  it('oidc(): reads the email from UserInfo when the id_token has none, for the same subject', async () => {
    const sub = `oidc-${unique()}`;
    oidcProvider.nextLogin({ sub });
    oidcProvider.userinfo({
      sub,
      email: `${sub}@example.com`,
      email_verified: true,
      picture: 'https://cdn.example/p.png',
    });
    try {
      const flow = await signInVia(app, 'oidc');
      expect(flow.callback.status).toBe(302);
      const session = await currentSession(app, flow.sessionCookie!);
      expect(session.body.user).toMatchObject({
        email: `${sub}@example.com`,
        emailVerified: true,
        image: 'https://cdn.example/p.png',
      });
    } finally {
      oidcProvider.userinfo(undefined);
    }
  });

  it('oidc(): refuses UserInfo claims about another subject', async () => {
    const sub = `oidc-${unique()}`;
    oidcProvider.nextLogin({ sub });
    oidcProvider.userinfo({ sub: 'someone-else', email: `${sub}@example.com`, email_verified: true });
    try {
      const flow = await signInVia(app, 'oidc');
      expectError(flow.callback, 400, 'OAUTH_PROVIDER_ERROR');
      expect(flow.sessionCookie).toBeUndefined();
    } finally {
      oidcProvider.userinfo(undefined);
    }
  });

  it('google(): discovers the (local) issuer, authenticates with client_secret_basic and signs in', async () => {
    const sub = `1${Date.now()}`;
    googleProvider.nextLogin({
      sub,
      email: `g${sub}@gmail.example`,
      email_verified: true,
      name: 'Fahad',
      picture: 'https://lh3.googleusercontent.example/a/photo',
    });
    const flow = await signInVia(app, 'google');
    expect(Object.fromEntries(flow.authorizeUrl.searchParams)).toMatchObject({
      client_id: GOOGLE_CLIENT.clientId,
      scope: 'openid email profile',
      code_challenge_method: 'S256',
      nonce: expect.any(String),
    });
    expect(flow.callback.status).toBe(302);
    expect(flow.callback.headers.location).toBe('/');
    expect(googleProvider.tokenRequests.at(-1)!.authMethod).toBe('client_secret_basic');

    const session = await currentSession(app, flow.sessionCookie!);
    expect(session.body.user).toMatchObject({
      email: `g${sub}@gmail.example`,
      emailVerified: true,
      name: 'Fahad',
      image: 'https://lh3.googleusercontent.example/a/photo',
    });
    const [account] = await app.get(DataSource).getRepository(Account).findBy({ userId: session.body.user.id });
    expect([account.providerId, account.accountId]).toEqual(['google', sub]);
  });

  it("github(): uses GitHub's endpoints, PKCE and scopes, and the verified primary email from /user/emails", async () => {
    const id = 4000 + Math.floor(Math.random() * 100000);
    githubProvider.nextLogin({
      id,
      login: `octo${id}`,
      name: null,
      email: null,
      emails: [
        { email: `old${id}@example.com`, primary: false, verified: true },
        { email: `octo${id}@example.com`, primary: true, verified: true },
      ],
    });
    const flow = await signInVia(app, 'github', { redirectTo: 'https://app.example.com/after' });
    const params = Object.fromEntries(flow.authorizeUrl.searchParams);
    expect(`${flow.authorizeUrl.origin}${flow.authorizeUrl.pathname}`).toBe(
      `${githubProvider.baseUrl}/login/oauth/authorize`,
    );
    expect(params).toEqual({
      client_id: GITHUB_CLIENT.clientId,
      response_type: 'code',
      redirect_uri: `${APP}/auth/callback/github`,
      scope: 'read:user user:email',
      state: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      code_challenge: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      code_challenge_method: 'S256',
    });

    expect(flow.callback.status).toBe(302);
    expect(flow.callback.headers.location).toBe('https://app.example.com/after');
    const exchange = githubProvider.tokenRequests.at(-1)!;
    expect(exchange.accept).toContain('application/json');
    expect(exchange.body.code_verifier).toBe(decodeJwtPayload(flow.checkCookieValue).cv);
    const api = githubProvider.apiRequests.slice(-2);
    expect(api.map((r) => r.path)).toEqual(['/user', '/user/emails']);
    for (const call of api) {
      expect(call.headers.authorization).toMatch(/^Bearer gho_/);
      expect(call.headers['user-agent']).toBeTruthy();
    }

    const session = await currentSession(app, flow.sessionCookie!);
    expect(session.body.user).toMatchObject({ email: `octo${id}@example.com`, emailVerified: true, name: `octo${id}` });
    const [account] = await app.get(DataSource).getRepository(Account).findBy({ userId: session.body.user.id });
    expect([account.providerId, account.accountId]).toEqual(['github', String(id)]);
  });

  it('github(): an unverified primary email, or only a public profile email, is not stored (issue 14)', async () => {
    const id = 200000 + Math.floor(Math.random() * 100000);
    githubProvider.nextLogin({
      id,
      login: `u${id}`,
      emails: [{ email: `u${id}@example.com`, primary: true, verified: false }],
    });
    const unverified = await signInVia(app, 'github');
    expect(unverified.callback.status).toBe(302);
    expect((await currentSession(app, unverified.sessionCookie!)).body.user).toMatchObject({
      email: null,
      emailVerified: false,
    });

    githubProvider.nextLogin({ id: id + 1, login: `p${id}`, email: `p${id}@example.com` }); // no user:email access
    const publicOnly = await signInVia(app, 'github');
    expect(publicOnly.callback.status).toBe(302);
    expect((await currentSession(app, publicOnly.sessionCookie!)).body.user).toMatchObject({
      email: null,
      emailVerified: false,
    });
  });

  it('answers 404 UNKNOWN_PROVIDER for a provider that is not configured, on both routes', async () => {
    expectError(await request(app.getHttpServer()).get('/auth/sign-in/facebook'), 404, 'UNKNOWN_PROVIDER');
    expectError(
      await request(app.getHttpServer()).get('/auth/callback/facebook?code=x&state=y'),
      404,
      'UNKNOWN_PROVIDER',
    );
  });
});

describe.each(PLATFORMS)('OAuth routes under a custom routes.path on %s', (platform) => {
  let database: Awaited<ReturnType<typeof sqlite.create>>;
  let provider: MockOidcProvider;
  let app: INestApplication;

  beforeAll(async () => {
    database = await sqlite.create();
    provider = await startMockOidcProvider(OIDC_CLIENT);
    app = await createTestApp({
      database: database.options,
      platform,
      auth: {
        routes: { path: 'api/auth' },
        providers: [
          oidc({
            ...OIDC_CLIENT,
            id: 'corp',
            issuer: provider.issuer,
            redirectUri: `${APP}/api/auth/callback/corp`,
            allowInsecureRequests: true,
          }),
        ],
      },
    });
  });

  afterAll(async () => {
    await app?.close();
    await provider?.stop();
    await database?.drop();
  });

  it('serves sign-in and callback under the prefix, with the provider id given to oidc()', async () => {
    provider.nextLogin({ sub: `corp-${unique()}`, email: 'corp@example.com', email_verified: true });
    const flow = await signInVia(app, 'corp', {}, 'api/auth');
    expect(flow.callbackUrl.pathname).toBe('/api/auth/callback/corp');
    expect(flow.callback.status).toBe(302);
    const session = await currentSession(app, flow.sessionCookie!, 'api/auth');
    expect(session.body.user.email).toBe('corp@example.com');
  });
});
