import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { deriveKey } from '../../src/crypto/crypto.util.js';
import { Account } from '../../src/entities/account.entity.js';
import { type Platform, TEST_SECRET } from '../apps/test-app.js';
import { testDatabases } from '../helpers/databases.js';
import {
  APP_URL,
  OIDC_CLIENT,
  type OAuthTestEnvironment,
  startOAuthEnvironment,
  TRUSTED_ORIGIN,
} from '../helpers/oauth-app.js';
import {
  authorizeAt,
  callApp,
  CHECK_COOKIE,
  cookieNamed,
  currentSession,
  decodeJwtPayload,
  expectError,
  expectNoSession,
  SESSION_COOKIE,
  signInVia,
  startSignIn,
  unique,
} from '../helpers/oauth-flow.js';
import { signWithForeignKey, unsignedCopy } from '../helpers/oauth-providers.js';

const sqlite = testDatabases().find((db) => db.name === 'sqlite')!;
const PLATFORMS: Platform[] = ['express', 'fastify'];

describe.each(PLATFORMS)('OAuth callback security on %s', (platform: Platform) => {
  let database: Awaited<ReturnType<typeof sqlite.create>>;
  let env: OAuthTestEnvironment;
  let app: INestApplication;

  beforeAll(async () => {
    database = await sqlite.create();
    // Hundreds of callbacks from one client address: the per-address OAuth limits are proved in
    // edge-rules.spec.ts; here they must not turn a refused callback into a 429.
    const roomy = { limit: 100_000, window: 600 };
    env = await startOAuthEnvironment(database.options, {
      platform,
      auth: { rateLimit: { limits: { 'oauth-sign-in:ip': roomy, 'oauth-callback:ip': roomy } } },
    });
    app = env.app;
  });

  afterAll(async () => {
    await env?.close();
    await database?.drop();
  });

  /** Accounts of `subject` at any provider: a refused callback must leave none. */
  async function accountsOf(subject: string): Promise<Account[]> {
    return app.get(DataSource).getRepository(Account).findBy({ accountId: subject });
  }

  /** A failed callback: the error, no session cookie, and the check cookie cleared. */
  function expectRefused(res: request.Response, status: number, code: string): void {
    expectError(res, status, code);
    expectNoSession(res);
    expect(cookieNamed(res, CHECK_COOKIE)?.attributes['max-age']).toBe('0');
  }

  describe('state', () => {
    it('gives every sign-in attempt its own state, verifier and nonce', async () => {
      const a = decodeJwtPayload((await startSignIn(app, 'oidc')).checkCookieValue);
      const b = decodeJwtPayload((await startSignIn(app, 'oidc')).checkCookieValue);
      for (const field of ['st', 'cv', 'nn']) expect(a[field]).not.toBe(b[field]);
    });

    it('refuses a callback without the check cookie (400, no session, no code exchange)', async () => {
      const started = await startSignIn(app, 'oidc');
      const callbackUrl = await authorizeAt(started.authorizeUrl);
      const exchanges = env.oidcProvider.tokenRequests.length;
      expectRefused(await callApp(app, callbackUrl), 400, 'OAUTH_STATE_MISMATCH');
      expect(env.oidcProvider.tokenRequests.length).toBe(exchanges);
    });

    it('refuses a callback whose state is missing or different from the one in the cookie', async () => {
      const started = await startSignIn(app, 'oidc');
      const callbackUrl = await authorizeAt(started.authorizeUrl);
      const withoutState = new URL(callbackUrl);
      withoutState.searchParams.delete('state');
      expectRefused(await callApp(app, withoutState, started.checkCookie), 400, 'OAUTH_STATE_MISMATCH');

      const otherState = new URL(callbackUrl);
      otherState.searchParams.set('state', randomBytes(32).toString('base64url'));
      expectRefused(await callApp(app, otherState, started.checkCookie), 400, 'OAUTH_STATE_MISMATCH');

      // A state one character off (same length) is refused too.
      const state = callbackUrl.searchParams.get('state')!;
      const nearMiss = new URL(callbackUrl);
      nearMiss.searchParams.set('state', `${state.slice(0, -1)}${state.endsWith('A') ? 'B' : 'A'}`);
      expectRefused(await callApp(app, nearMiss, started.checkCookie), 400, 'OAUTH_STATE_MISMATCH');
    });

    it('refuses a replayed callback: the same state works once, even with the cookie kept', async () => {
      const subject = `replay-${unique()}`;
      env.oidcProvider.nextLogin({ sub: subject });
      const flow = await signInVia(app, 'oidc');
      expect(flow.callback.status).toBe(302);
      expectRefused(await callApp(app, flow.callbackUrl, flow.checkCookie), 400, 'OAUTH_STATE_MISMATCH');
    });

    it('refuses a state made for one provider at another provider’s callback (mix-up)', async () => {
      // A Google flow completed at the generic OIDC callback.
      const googleFlow = await startSignIn(app, 'google');
      const googleCallback = await authorizeAt(googleFlow.authorizeUrl);
      const atOidc = new URL(`/auth/callback/oidc${googleCallback.search}`, APP_URL);
      const oidcExchanges = env.oidcProvider.tokenRequests.length;
      expectRefused(await callApp(app, atOidc, googleFlow.checkCookie), 400, 'OAUTH_STATE_MISMATCH');
      expect(env.oidcProvider.tokenRequests.length).toBe(oidcExchanges);

      // A GitHub flow completed at the Google callback.
      const githubFlow = await startSignIn(app, 'github');
      const githubCallback = await authorizeAt(githubFlow.authorizeUrl);
      const atGoogle = new URL(`/auth/callback/google${githubCallback.search}`, APP_URL);
      expectRefused(await callApp(app, atGoogle, githubFlow.checkCookie), 400, 'OAUTH_STATE_MISMATCH');
    });

    it('refuses a forged, re-signed, expired or foreign check cookie', async () => {
      const started = await startSignIn(app, 'oidc');
      const callbackUrl = await authorizeAt(started.authorizeUrl);
      const [header, payload, signature] = started.checkCookieValue.split('.');
      const { iat: _iat, exp: _exp, aud: _aud, ...claims } = decodeJwtPayload(started.checkCookieValue);
      const jwt = app.get(JwtService);
      const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
      const checkKey = deriveKey(TEST_SECRET, 'oauth-check-cookie');

      const forged = [
        // signature altered
        `${header}.${payload}.${signature.slice(0, -2)}${signature.endsWith('AA') ? 'BB' : 'AA'}`,
        // payload edited (another redirect), original signature kept
        `${header}.${encode({ ...claims, rt: 'https://evil.example' })}.${signature}`,
        // alg none
        `${encode({ alg: 'none', typ: 'JWT' })}.${payload}.`,
        // signed with the application secret itself instead of the derived check key
        jwt.sign(claims, { secret: TEST_SECRET, audience: 'arraf-auth:oauth-check', expiresIn: 600 }),
        // the right key, expired ten minutes ago
        jwt.sign(
          { ...claims, exp: Math.floor(Date.now() / 1000) - 1 },
          { secret: checkKey, audience: 'arraf-auth:oauth-check' },
        ),
        // the right key, another audience
        jwt.sign(claims, { secret: checkKey, audience: 'arraf-auth:session', expiresIn: 600 }),
      ];
      for (const value of forged) {
        expectRefused(await callApp(app, callbackUrl, `${CHECK_COOKIE}=${value}`), 400, 'OAUTH_STATE_MISMATCH');
      }
      // The genuine cookie still works afterwards: the refusals consumed nothing.
      env.oidcProvider.nextLogin({ sub: `genuine-${unique()}` });
      expect((await callApp(app, callbackUrl, started.checkCookie)).status).toBe(302);
    });

    it('never accepts the check cookie as a session', async () => {
      const started = await startSignIn(app, 'oidc');
      const res = await currentSession(app, `${SESSION_COOKIE}=${started.checkCookieValue}`);
      expect(res.body).toEqual({ user: null, session: null });
    });
  });

  describe('PKCE', () => {
    it.each(['oidc', 'github'])(
      '%s: a code issued to another sign-in attempt is refused, its verifier does not match (code injection)',
      async (provider) => {
        const subject = `injected-${unique()}`;
        if (provider === 'oidc') env.oidcProvider.nextLogin({ sub: subject });
        else env.githubProvider.nextLogin({ id: 900000 + Math.floor(Math.random() * 1000), login: subject });
        const attacker = await startSignIn(app, provider);
        const attackerCallback = await authorizeAt(attacker.authorizeUrl);
        const victim = await startSignIn(app, provider);
        const victimCallback = await authorizeAt(victim.authorizeUrl);

        const injected = new URL(victimCallback);
        injected.searchParams.set('code', attackerCallback.searchParams.get('code')!);
        const res = await callApp(app, injected, victim.checkCookie);
        expectRefused(res, 400, 'OAUTH_PROVIDER_ERROR');
        expect(await accountsOf(subject)).toEqual([]);
        if (provider === 'github') {
          // The fake records the exchange: the victim's verifier went with the attacker's code.
          const sent = env.githubProvider.tokenRequests.at(-1)!;
          expect(sent.body.code).toBe(attackerCallback.searchParams.get('code'));
          expect(sent.body.code_verifier).toBe(decodeJwtPayload(victim.checkCookieValue).cv);
        }
      },
    );

    it('the local providers refuse a code exchange without the verifier, so the flows above prove the library sends it', async () => {
      for (const provider of [env.oidcProvider, env.githubProvider]) {
        const started = await startSignIn(app, provider === env.oidcProvider ? 'oidc' : 'github');
        const code = (await authorizeAt(started.authorizeUrl)).searchParams.get('code')!;
        const endpoint =
          provider === env.oidcProvider
            ? `${env.oidcProvider.issuer}/token`
            : `${env.githubProvider.baseUrl}/login/oauth/access_token`;
        const client =
          provider === env.oidcProvider
            ? OIDC_CLIENT
            : { clientId: 'Iv1.github-client', clientSecret: 'github-secret-value' };
        const res = await fetch(endpoint, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
          body: new URLSearchParams({
            grant_type: 'authorization_code',
            code,
            redirect_uri: started.authorizeUrl.searchParams.get('redirect_uri')!,
            client_id: client.clientId,
            client_secret: client.clientSecret,
          }),
        });
        const body = (await res.json()) as { access_token?: string; error?: string };
        expect(body.access_token).toBeUndefined();
        expect(body.error).toMatch(/invalid_grant|bad_verification_code/);
      }
    });
  });

  describe('id_token validation', () => {
    const now = () => Math.floor(Date.now() / 1000);
    const cases: [string, (env: OAuthTestEnvironment) => void][] = [
      [
        'a wrong nonce',
        (e) => e.oidcProvider.tamperNextIdToken((t) => void (t.payload.nonce = 'not-the-nonce-we-sent')),
      ],
      ['no nonce', (e) => e.oidcProvider.tamperNextIdToken((t) => void delete t.payload.nonce)],
      ['a wrong issuer', (e) => e.oidcProvider.tamperNextIdToken((t) => void (t.payload.iss = 'https://evil.example'))],
      [
        'the issuer with a trailing slash',
        (e) => e.oidcProvider.tamperNextIdToken((t) => void (t.payload.iss = `${t.payload.iss}/`)),
      ],
      ['another audience', (e) => e.oidcProvider.tamperNextIdToken((t) => void (t.payload.aud = 'another-client'))],
      [
        'an expired exp',
        (e) =>
          e.oidcProvider.tamperNextIdToken((t) => Object.assign(t.payload, { iat: now() - 7200, exp: now() - 3600 })),
      ],
      ['alg none', (e) => e.oidcProvider.replaceNextIdToken(unsignedCopy)],
      [
        'a signature by a key the issuer never published',
        (e) => e.oidcProvider.replaceNextIdToken((t) => signWithForeignKey(t)),
      ],
    ];

    it.each(cases)('refuses an id_token with %s (400, no session, no account)', async (_name, tamper) => {
      const subject = `idt-${unique()}`;
      env.oidcProvider.nextLogin({ sub: subject, email: `${subject}@example.com`, email_verified: true });
      tamper(env);
      const flow = await signInVia(app, 'oidc');
      expectRefused(flow.callback, 400, 'OAUTH_PROVIDER_ERROR');
      expect(await accountsOf(subject)).toEqual([]);
    });

    it('accepts the same id_token untampered (the cases above fail for their one defect)', async () => {
      const subject = `idt-${unique()}`;
      env.oidcProvider.nextLogin({ sub: subject, email: `${subject}@example.com`, email_verified: true });
      const flow = await signInVia(app, 'oidc');
      expect(flow.callback.status).toBe(302);
      expect(await accountsOf(subject)).toHaveLength(1);
    });
  });

  describe('provider errors', () => {
    it.each(['oidc', 'github'])(
      '%s: error=access_denied answers 400 OAUTH_PROVIDER_ERROR without a session',
      async (provider) => {
        if (provider === 'oidc') env.oidcProvider.denyNext('access_denied');
        else env.githubProvider.denyNext('access_denied');
        const flow = await signInVia(app, provider);
        expect(flow.callbackUrl.searchParams.get('error')).toBe('access_denied');
        expectRefused(flow.callback, 400, 'OAUTH_PROVIDER_ERROR');
      },
    );

    it('answers 502 OAUTH_PROVIDER_UNAVAILABLE when the provider cannot be reached', async () => {
      expectError(await request(app.getHttpServer()).get('/auth/sign-in/down'), 502, 'OAUTH_PROVIDER_UNAVAILABLE');
    });
  });

  describe('redirectTo', () => {
    it.each([
      'https://evil.example',
      'https://evil.example/auth/callback',
      '//evil.example',
      '/\\evil.example',
      '\\\\evil.example',
      '/%2F%2Fevil.example',
      '/%5Cevil.example',
      '%2F%2Fevil.example',
      'javascript:alert(document.cookie)',
      'data:text/html,<script>alert(1)</script>',
      'https://app.example.com.evil.example/',
      'https://app.example.com@evil.example/',
      'http://app.example.com/',
      '/\t/evil.example',
      '/\u0000/evil.example',
    ])('sends the browser to / instead of %j', async (redirectTo) => {
      env.oidcProvider.nextLogin({ sub: `redir-${unique()}` });
      const flow = await signInVia(app, 'oidc', { redirectTo });
      expect(decodeJwtPayload(flow.checkCookieValue).rt).toBe('/');
      expect(flow.callback.status).toBe(302);
      expect(flow.callback.headers.location).toBe('/');
    });

    it.each([
      ['/account/settings?tab=security', '/account/settings?tab=security'],
      [`${APP_URL}/home`, `${APP_URL}/home`],
      [`${TRUSTED_ORIGIN}/console`, `${TRUSTED_ORIGIN}/console`],
    ])('honours %j (a same-site path, appUrl or a trusted origin)', async (redirectTo, location) => {
      env.oidcProvider.nextLogin({ sub: `redir-${unique()}` });
      const flow = await signInVia(app, 'oidc', { redirectTo });
      expect(flow.callback.headers.location).toBe(location);
    });

    it('ignores a repeated or structured redirectTo', async () => {
      const res = await request(app.getHttpServer()).get('/auth/sign-in/oidc?redirectTo=/a&redirectTo=/b');
      expect(res.status).toBe(302);
      expect(decodeJwtPayload(cookieNamed(res, CHECK_COOKIE)!.value).rt).toBe('/');
    });
  });

  describe('garbage input never causes a 500', () => {
    it('answers 400 to malformed callback queries, with or without a valid check cookie', async () => {
      const started = await startSignIn(app, 'oidc');
      const state = decodeJwtPayload(started.checkCookieValue).st as string;
      const queries = [
        '',
        '?',
        '?code=',
        '?state=',
        '?code=abc',
        `?state=${state}&state=${state}&code=x`,
        `?state[$ne]=1&code=x`,
        '?code[]=1&code[]=2&state[]=3',
        '?code=%E0%A4%A&state=%E0%A4%A',
        '?state=%00%01%02&code=%ff%fe',
        `?code=${'a'.repeat(5000)}&state=${'b'.repeat(3000)}`,
        '?error=access_denied',
        '?error[]=x&state[]=y',
        '?__proto__[polluted]=1&constructor[prototype][polluted]=1',
        '?iss=https://evil.example&code=x&state=y',
      ];
      for (let i = 0; i < 40; i++) {
        const bytes = randomBytes(1 + (i % 60));
        queries.push(
          `?code=${encodeURIComponent(bytes.toString('latin1'))}&state=${bytes.toString('base64')}&${bytes.toString('hex')}=1`,
        );
      }
      for (const query of queries) {
        for (const cookie of [undefined, started.checkCookie]) {
          const res = await callApp(app, `/auth/callback/oidc${query}`, cookie);
          expect({ query: query.slice(0, 80), status: res.status }).toEqual({ query: query.slice(0, 80), status: 400 });
          expect(res.body.error.code).toMatch(/^(OAUTH_STATE_MISMATCH|INVALID_INPUT)$/);
        }
      }
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    it('answers 400 to malformed or oversized check cookies', async () => {
      const callback = '/auth/callback/oidc?code=x&state=y';
      const cookies = [
        `${CHECK_COOKIE}=`,
        `${CHECK_COOKIE}=%E0%A4%A`,
        `${CHECK_COOKIE}=${'A'.repeat(10_000)}`,
        `${CHECK_COOKIE}=not.a.jwt`,
        `${CHECK_COOKIE}=${randomBytes(64).toString('base64')}`,
        `${CHECK_COOKIE}=a; ${CHECK_COOKIE}=b`,
        `${CHECK_COOKIE}="quoted"`,
        'arraf_oauth=unprefixed',
        `${CHECK_COOKIE}=${Buffer.from('{"alg":"HS256"}').toString('base64url')}.${Buffer.from('[]').toString('base64url')}.x`,
      ];
      for (const cookie of cookies) {
        const res = await callApp(app, callback, cookie);
        expect({ cookie: cookie.slice(0, 40), status: res.status }).toEqual({
          cookie: cookie.slice(0, 40),
          status: 400,
        });
      }
    });

    it('answers 404 for provider names that are not configured, however odd', async () => {
      for (const name of ['..%2F..%2Fetc', '%00', 'credential', 'OIDC', 'a'.repeat(300), '__proto__', 'constructor']) {
        const res = await request(app.getHttpServer()).get(`/auth/callback/${name}?code=x&state=y`);
        expect({ name, status: res.status }).toEqual({ name, status: 404 });
      }
    });

    it('still signs in normally after all of that', async () => {
      env.oidcProvider.nextLogin({ sub: `after-${unique()}` });
      const flow = await signInVia(app, 'oidc');
      expect(flow.callback.status).toBe(302);
      expect(flow.sessionCookie).toBeDefined();
    });
  });
});
