import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuthService } from '../../src/auth/auth.service.js';
import { Account } from '../../src/entities/account.entity.js';
import { User } from '../../src/entities/user.entity.js';
import { Verification } from '../../src/entities/verification.entity.js';
import type { Platform } from '../apps/test-app.js';
import { type TestDatabase, testDatabases } from '../helpers/databases.js';
import { type OAuthTestEnvironment, startOAuthEnvironment } from '../helpers/oauth-app.js';
import {
  authorizeAt,
  callApp,
  currentSession,
  expectError,
  expectNoSession,
  signInVia,
  startSignIn,
  unique,
} from '../helpers/oauth-flow.js';

const PLATFORMS: Platform[] = ['express', 'fastify'];
/** Every configured database, on each platform. */
const CASES = testDatabases().flatMap((db) => PLATFORMS.map((platform) => ({ db, platform, name: db.name })));

describe.each(CASES)(
  'OAuth accounts and linking on $name ($platform)',
  ({ db, platform }: { db: TestDatabase; platform: Platform }) => {
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

    const users = () => app.get(DataSource).getRepository(User);
    const accounts = () => app.get(DataSource).getRepository(Account);

    /** A local user, as the password or OTP flows would have stored it. */
    function localUser(email: string, emailVerified: boolean): Promise<User> {
      return app.get(AuthService).createUser({ email, emailVerified, name: 'Local' }, 'email');
    }

    /** The user id the session cookie of a completed flow belongs to. */
    async function signedInUserId(cookie: string | undefined): Promise<string> {
      expect(cookie).toBeDefined();
      const res = await currentSession(app, cookie!);
      expect(res.body.user).not.toBeNull();
      return res.body.user.id as string;
    }

    it('creates a user for a new identity, keyed by (provider, subject), with the provider’s verified email', async () => {
      const sub = `new-${unique()}`;
      env.oidcProvider.nextLogin({ sub, email: `${sub}@example.com`, email_verified: true, name: 'Sara' });
      const flow = await signInVia(app, 'oidc');
      expect(flow.callback.status).toBe(302);
      const userId = await signedInUserId(flow.sessionCookie);
      const user = await users().findOneByOrFail({ id: userId });
      expect({ email: user.email, emailVerified: user.emailVerified, name: user.name }).toEqual({
        email: `${sub}@example.com`,
        emailVerified: true,
        name: 'Sara',
      });
      expect((await accounts().findBy({ userId })).map((a) => [a.providerId, a.accountId])).toEqual([['oidc', sub]]);
    });

    it('signs a returning identity into its user even after its email changed at the provider', async () => {
      const sub = `returning-${unique()}`;
      env.oidcProvider.nextLogin({ sub, email: `first-${sub}@example.com`, email_verified: true });
      const first = await signInVia(app, 'oidc');
      const userId = await signedInUserId(first.sessionCookie);

      env.oidcProvider.nextLogin({ sub, email: `second-${sub}@example.com`, email_verified: true });
      const second = await signInVia(app, 'oidc');
      expect(second.callback.status).toBe(302);
      expect(await signedInUserId(second.sessionCookie)).toBe(userId);
      expect((await users().findOneByOrFail({ id: userId })).email).toBe(`first-${sub}@example.com`);
      expect(await users().findOneBy({ email: `second-${sub}@example.com` })).toBeNull();
      expect(await accounts().countBy({ providerId: 'oidc', accountId: sub })).toBe(1);
    });

    it('keeps identities of different providers apart even with the same subject and email', async () => {
      const sub = `shared-${unique()}`;
      env.oidcProvider.nextLogin({ sub, email: `${sub}@example.com`, email_verified: false });
      const viaOidc = await signedInUserId((await signInVia(app, 'oidc')).sessionCookie);

      // Same subject string and the same unverified email at Google: the email decides nothing (no
      // user holds it), the subject of another provider is not this identity: a separate user.
      env.googleProvider.nextLogin({ sub, email: `${sub}@example.com`, email_verified: false });
      const viaGoogle = await signedInUserId((await signInVia(app, 'google')).sessionCookie);
      expect(viaGoogle).not.toBe(viaOidc);
      expect(await users().countBy({ email: `${sub}@example.com` })).toBe(0);

      // Google's identity returns with another, verified email: still Google's user, never the OIDC one.
      env.googleProvider.nextLogin({ sub, email: `other-${sub}@example.com`, email_verified: true });
      expect(await signedInUserId((await signInVia(app, 'google')).sessionCookie)).toBe(viaGoogle);
      const rows = await accounts().findBy({ accountId: sub });
      expect(rows.map((a) => [a.providerId, a.userId]).sort()).toEqual(
        [
          ['google', viaGoogle],
          ['oidc', viaOidc],
        ].sort(),
      );
    });

    it('links a new identity to the existing user when both the provider and the local account verified the email', async () => {
      const email = `linked-${unique()}@example.com`;
      const local = await localUser(email, true);
      env.googleProvider.nextLogin({ sub: `g-${unique()}`, email: email.toUpperCase(), email_verified: true });
      const flow = await signInVia(app, 'google');
      expect(flow.callback.status).toBe(302);
      expect(await signedInUserId(flow.sessionCookie)).toBe(local.id);
      expect((await accounts().findBy({ userId: local.id })).map((a) => a.providerId)).toContain('google');
    });

    it('refuses to enter a pre-registered account whose email is not verified (account pre-hijacking)', async () => {
      const email = `victim-${unique()}@example.com`;
      const squatted = await localUser(email, false); // registered by someone who never proved the address
      const usersBefore = await users().count();
      const sub = `idp-${unique()}`;
      env.googleProvider.nextLogin({ sub, email, email_verified: true });
      const flow = await signInVia(app, 'google');
      expectError(flow.callback, 409, 'OAUTH_ACCOUNT_NOT_LINKED');
      expectNoSession(flow.callback);
      expect(await accounts().findBy({ accountId: sub })).toEqual([]);
      expect(await accounts().findBy({ userId: squatted.id })).toEqual([]);
      expect(await users().count()).toBe(usersBefore);
    });

    it.each([
      ['the string "false"', 'false'],
      ['the string "true"', 'true'],
      ['the number 1', 1],
      ['no claim at all', undefined],
    ])('does not link when email_verified is %s, even to a verified local account', async (_label, emailVerified) => {
      const email = `strict-${unique()}@example.com`;
      const local = await localUser(email, true);
      const sub = `strict-${unique()}`;
      env.oidcProvider.nextLogin({
        sub,
        email,
        ...(emailVerified === undefined ? {} : { email_verified: emailVerified }),
      });
      const flow = await signInVia(app, 'oidc');
      expectError(flow.callback, 409, 'OAUTH_ACCOUNT_NOT_LINKED');
      expectNoSession(flow.callback);
      expect(await accounts().findBy({ userId: local.id })).toEqual([]);
    });

    it('creates a new user without the email when email_verified is "false" (issue 14: the address stays its owner’s)', async () => {
      const sub = `unverified-${unique()}`;
      env.oidcProvider.nextLogin({ sub, email: `${sub}@example.com`, email_verified: 'false' });
      const flow = await signInVia(app, 'oidc');
      const user = await users().findOneByOrFail({ id: await signedInUserId(flow.sessionCookie) });
      expect({ email: user.email, emailVerified: user.emailVerified }).toEqual({
        email: null,
        emailVerified: false,
      });
      expect(await users().countBy({ email: `${sub}@example.com` })).toBe(0);
      expect((await accounts().findBy({ userId: user.id })).map((a) => [a.providerId, a.accountId])).toEqual([
        ['oidc', sub],
      ]);
    });

    it('github(): links by the verified primary email only', async () => {
      const verifiedEmail = `gh-${unique()}@example.com`;
      const local = await localUser(verifiedEmail, true);
      const id = 7_000_000 + Math.floor(Math.random() * 1_000_000);
      env.githubProvider.nextLogin({
        id,
        login: `gh${id}`,
        emails: [{ email: verifiedEmail, primary: true, verified: true }],
      });
      expect(await signedInUserId((await signInVia(app, 'github')).sessionCookie)).toBe(local.id);

      const unverifiedEmail = `gh-${unique()}@example.com`;
      await localUser(unverifiedEmail, true);
      env.githubProvider.nextLogin({
        id: id + 1,
        login: `gh${id + 1}`,
        emails: [
          { email: unverifiedEmail, primary: true, verified: false },
          { email: `spare-${unique()}@example.com`, primary: false, verified: true },
        ],
      });
      expectError((await signInVia(app, 'github')).callback, 409, 'OAUTH_ACCOUNT_NOT_LINKED');
    });

    it('stores no provider token unless storeTokens is on', async () => {
      const sub = `tokens-off-${unique()}`;
      env.oidcProvider.nextLogin({ sub });
      await signInVia(app, 'oidc');
      const off = await accounts().findOneByOrFail({ providerId: 'oidc', accountId: sub });
      expect([
        off.accessToken,
        off.refreshToken,
        off.idToken,
        off.accessTokenExpiresAt,
        off.scope,
        off.password,
      ]).toEqual([null, null, null, null, null, null]);

      const gsub = `tokens-on-${unique()}`;
      env.googleProvider.nextLogin({ sub: gsub });
      await signInVia(app, 'google');
      const on = await accounts().findOneByOrFail({ providerId: 'google', accountId: gsub });
      expect(on.accessToken).toEqual(expect.any(String));
      expect(on.refreshToken).toEqual(expect.any(String));
      expect(on.idToken?.split('.')).toHaveLength(3);
      expect(on.accessTokenExpiresAt!.getTime()).toBeGreaterThan(Date.now());

      // A returning sign-in stores the new tokens (the mock issues a fresh refresh token each time).
      env.googleProvider.nextLogin({ sub: gsub });
      await signInVia(app, 'google');
      const again = await accounts().findOneByOrFail({ providerId: 'google', accountId: gsub });
      expect(again.refreshToken).toEqual(expect.any(String));
      expect(again.refreshToken).not.toBe(on.refreshToken);
    });

    it('records each used state so a replayed callback is refused on this database', async () => {
      env.oidcProvider.nextLogin({ sub: `replay-${unique()}` });
      const flow = await signInVia(app, 'oidc');
      expect(flow.callback.status).toBe(302);
      const replay = await callApp(app, flow.callbackUrl, flow.checkCookie);
      expectError(replay, 400, 'OAUTH_STATE_MISMATCH');
      expectNoSession(replay);
      const rows = await app
        .get(DataSource)
        .getRepository(Verification)
        .findBy({ identifier: 'oauth:oidc', type: 'oauth-state' });
      expect(rows.length).toBeGreaterThan(0);
    });

    it('two parallel first sign-ins of the same identity end in one user and one identity', async () => {
      const sub = `parallel-${unique()}`;
      const claims = { sub, email: `${sub}@example.com`, email_verified: true };
      env.oidcProvider.nextLogin(claims);
      const a = await startSignIn(app, 'oidc');
      const aCallback = await authorizeAt(a.authorizeUrl);
      const b = await startSignIn(app, 'oidc');
      const bCallback = await authorizeAt(b.authorizeUrl);
      const [ra, rb] = await Promise.all([
        callApp(app, aCallback, a.checkCookie),
        callApp(app, bCallback, b.checkCookie),
      ]);
      expect([ra.status, rb.status]).toEqual([302, 302]);
      expect(await accounts().countBy({ providerId: 'oidc', accountId: sub })).toBe(1);
      expect(await users().countBy({ email: `${sub}@example.com` })).toBe(1);
    });
  },
);
