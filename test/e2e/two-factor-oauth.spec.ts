import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { Authenticator, SoftPasskey } from '../apps/two-factor-test-app.js';
import { APP_URL, type OAuthTestEnvironment, startOAuthEnvironment } from '../helpers/oauth-app.js';
import { cookieNamed, SESSION_COOKIE, signInVia } from '../helpers/oauth-flow.js';
import { type TestDatabase, testDatabases } from '../helpers/databases.js';

const PENDING = '__Host-arraf_2fa_pending';

describe.each(testDatabases())('OAuth sign-in of an account with a second factor on $name', (db: TestDatabase) => {
  let database: Awaited<ReturnType<TestDatabase['create']>>;
  let env: OAuthTestEnvironment;

  beforeAll(async () => {
    database = await db.create();
    env = await startOAuthEnvironment(database.options);
  });

  afterAll(async () => {
    await env?.close();
    await database?.drop();
  });

  it('redirects to the app with twoFactor=required and the pending cookie, never a session; the code completes it', async () => {
    const claims = { sub: `tf-${Date.now()}`, email: `tf-${Date.now()}@example.com`, email_verified: true };
    env.oidcProvider.nextLogin(claims);
    const first = await signInVia(env.app, 'oidc', { redirectTo: '/dashboard?tab=1' });
    const cookie = first.sessionCookie!;
    const post = (path: string, cookies: string) =>
      request(env.app.getHttpServer()).post(path).set('Origin', APP_URL).set('Cookie', cookies);
    const enabled = await post('/auth/two-factor/enable', cookie).expect(200);
    const authenticator = new Authenticator(enabled.body.totpUri);
    await post('/auth/two-factor/confirm', cookie)
      .send({ code: await authenticator.code() })
      .expect(200);

    env.oidcProvider.nextLogin(claims);
    const second = await signInVia(env.app, 'oidc', { redirectTo: '/dashboard?tab=1' });
    expect(second.callback.status).toBe(302);
    expect(second.callback.headers.location).toBe('/dashboard?tab=1&twoFactor=required');
    expect(second.sessionCookie).toBeUndefined();
    const pending = cookieNamed(second.callback, PENDING);
    expect(pending).toBeDefined();

    const done = await post('/auth/two-factor/verify', `${PENDING}=${pending!.value}`)
      .send({ code: await authenticator.code(1) })
      .expect(200);
    expect(done.body.user.email).toBe(claims.email);
    expect(cookieNamed(done, SESSION_COOKIE)).toBeDefined();
  });

  it("stops at the passkey step for an account whose only second factor is a passkey; the account's passkey completes it", async () => {
    const claims = { sub: `pk-${Date.now()}`, email: `pk-${Date.now()}@example.com`, email_verified: true };
    env.oidcProvider.nextLogin(claims);
    const first = await signInVia(env.app, 'oidc', { redirectTo: '/dashboard' });
    const http = () => request(env.app.getHttpServer());
    const signedIn = await http().get('/auth/session').set('Cookie', first.sessionCookie!).expect(200);
    const passkey = new SoftPasskey(signedIn.body.user.id, APP_URL);
    await passkey.store(env.app);

    env.oidcProvider.nextLogin(claims);
    const second = await signInVia(env.app, 'oidc', { redirectTo: '/dashboard' });
    expect(second.callback.status).toBe(302);
    expect(second.callback.headers.location).toBe('/dashboard?twoFactor=required');
    expect(second.sessionCookie).toBeUndefined();
    const pending = cookieNamed(second.callback, PENDING);
    expect(pending).toBeDefined();

    const options = await http().post('/auth/passkey/authenticate/options').set('Origin', APP_URL).expect(200);
    const done = await http()
      .post('/auth/passkey/authenticate/verify')
      .set('Origin', APP_URL)
      .set('Cookie', `${PENDING}=${pending!.value}`)
      .send({ response: passkey.assertion(options.body) })
      .expect(200);
    expect(done.body.user.email).toBe(claims.email);
    expect(cookieNamed(done, SESSION_COOKIE)).toBeDefined();
  });
});
