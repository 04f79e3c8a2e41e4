import 'reflect-metadata';
import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { isoCBOR } from '@simplewebauthn/server/helpers';
import request from 'supertest';
import { DataSource, type FindOptionsWhere } from 'typeorm';
import { oidc, type PublishedSecurityEvent, SecurityEvent, SecurityEventBus, Session } from '../../src/index.js';
import type { InMemorySmsProvider } from '../../src/testing/index.js';
import {
  expectErrorBody,
  freshEmail,
  GOOD_PASSWORD,
  OTHER_PASSWORD,
  sessionCookie,
} from '../apps/password-test-app.js';
import { createTwoFactorTestApp, TWO_FACTOR_APP_URL } from '../apps/two-factor-test-app.js';
import { type TestDatabase, testDatabases } from '../helpers/databases.js';
import { FailAfterEventInsert } from '../helpers/security-event-failure.js';
import { type MockOidcProvider, startMockOidcProvider } from '../helpers/oauth-providers.js';
import { saudiMobile, uniqueIp } from './otp.helpers.js';

/**
 * The security events of the sign-in flows the main suite (security-events.spec.ts) leaves out:
 * OAuth sign-in and its failures against a local OpenID provider, passkeys with a software
 * authenticator (registration, sign-in, removal), a password reset by phone, and a sign-in whose
 * event cannot be written.
 */

const APP_URL = TWO_FACTOR_APP_URL;
const RP_ID = 'app.example.test';
const OIDC_CLIENT = { clientId: 'events-client', clientSecret: 'events-secret-value' };
const CHECK_COOKIE = 'arraf_oauth';

const b64url = (bytes: Uint8Array | string) => Buffer.from(bytes).toString('base64url');
const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest();
/** Bytes of this realm: the WebAuthn library checks `instanceof Uint8Array` inside Jest's VM. */
const bytes = (buffer: Buffer) => new Uint8Array(buffer);

/**
 * A platform authenticator in software: an ES256 key pair and one discoverable credential,
 * answering registration ("none" attestation) and authentication as a browser's
 * `startRegistration()` / `startAuthentication()` would return them.
 */
class SoftwarePasskey {
  private readonly keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  private readonly credentialId = randomBytes(32);
  private counter = 0;
  private userHandle = '';

  get id(): string {
    return b64url(this.credentialId);
  }

  register(options: { challenge: string; user: { id: string } }) {
    this.userHandle = options.user.id;
    const { x, y } = this.keys.publicKey.export({ format: 'jwk' });
    const coseKey = isoCBOR.encode(
      new Map<number, number | Uint8Array>([
        [1, 2], // kty: EC2
        [3, -7], // alg: ES256
        [-1, 1], // crv: P-256
        [-2, bytes(Buffer.from(x!, 'base64url'))],
        [-3, bytes(Buffer.from(y!, 'base64url'))],
      ]),
    );
    const length = Buffer.alloc(2);
    length.writeUInt16BE(this.credentialId.length);
    // Flags: user present, user verified, attested credential data.
    const authData = Buffer.concat([this.header(0x45), Buffer.alloc(16), length, this.credentialId, coseKey]);
    const attestationObject = isoCBOR.encode(
      new Map<string, string | Uint8Array | Map<string, string>>([
        ['fmt', 'none'],
        ['attStmt', new Map<string, string>()],
        ['authData', bytes(authData)],
      ]),
    );
    return {
      id: this.id,
      rawId: this.id,
      type: 'public-key',
      response: {
        clientDataJSON: this.clientData('webauthn.create', options.challenge),
        attestationObject: b64url(attestationObject),
        transports: ['internal'],
      },
      authenticatorAttachment: 'platform',
      clientExtensionResults: {},
    };
  }

  authenticate(options: { challenge: string }, tamper = false) {
    const authData = this.header(0x05);
    const clientDataJSON = this.clientData('webauthn.get', options.challenge);
    const signed = Buffer.concat([authData, sha256(Buffer.from(clientDataJSON, 'base64url'))]);
    const signature = sign('sha256', tamper ? Buffer.concat([signed, Buffer.from([1])]) : signed, this.keys.privateKey);
    return {
      id: this.id,
      rawId: this.id,
      type: 'public-key',
      response: {
        clientDataJSON,
        authenticatorData: b64url(authData),
        signature: b64url(signature),
        userHandle: this.userHandle,
      },
      authenticatorAttachment: 'platform',
      clientExtensionResults: {},
    };
  }

  /** rpIdHash, flags and the signature counter (moved on at each use). */
  private header(flags: number): Buffer {
    const counter = Buffer.alloc(4);
    counter.writeUInt32BE(++this.counter);
    return Buffer.concat([sha256(RP_ID), Buffer.from([flags]), counter]);
  }

  private clientData(type: string, challenge: string): string {
    return b64url(JSON.stringify({ type, challenge, origin: APP_URL, crossOrigin: false }));
  }
}

describe.each(testDatabases())('security events of sign-in flows on $name', (db: TestDatabase) => {
  let database: Awaited<ReturnType<TestDatabase['create']>>;
  let provider: MockOidcProvider;
  let app: INestApplication;
  let sms: InMemorySmsProvider;
  let dataSource: DataSource;
  const failer = new FailAfterEventInsert();
  const published: PublishedSecurityEvent[] = [];

  /** One client: its own address and user agent on every request. */
  function client(userAgent = `Browser/${randomBytes(4).toString('hex')}`, ip = uniqueIp()) {
    const headers = { Origin: APP_URL, 'User-Agent': userAgent, 'X-Forwarded-For': ip };
    const withCookie = <T extends request.Test>(req: T, cookie?: string) =>
      cookie === undefined ? req : req.set('Cookie', cookie);
    return {
      ip,
      userAgent,
      post: (path: string, cookie?: string) => withCookie(request(app.getHttpServer()).post(path).set(headers), cookie),
      get: (path: string, cookie?: string) => withCookie(request(app.getHttpServer()).get(path).set(headers), cookie),
      del: (path: string, cookie: string) => withCookie(request(app.getHttpServer()).delete(path).set(headers), cookie),
    };
  }
  type Client = ReturnType<typeof client>;

  async function events(c: Client, cookie: string, limit = 20): Promise<Record<string, unknown>[]> {
    const res = await c.get(`/auth/account/events?limit=${limit}`, cookie).expect(200);
    return res.body.events;
  }

  /** The browser's OAuth round trip: sign-in route, the provider's authorize page, the callback. */
  async function viaOidc(c: Client) {
    const started = await c.get('/auth/sign-in/oidc').expect(302);
    const check = (started.headers['set-cookie'] as unknown as string[])
      .find((cookie) => cookie.startsWith(`${CHECK_COOKIE}=`))!
      .split(';')[0];
    const authorize = new URL(started.headers.location);
    expect(authorize.hostname).toBe('127.0.0.1');
    const atProvider = await fetch(authorize, { redirect: 'manual' });
    expect(atProvider.status).toBe(302);
    const callback = new URL(atProvider.headers.get('location')!);
    return c.get(`${callback.pathname}${callback.search}`, check);
  }

  async function signUp(c: Client): Promise<{ email: string; cookie: string; userId: string }> {
    const email = freshEmail('evf');
    const res = await c.post('/auth/sign-up').send({ email, password: GOOD_PASSWORD }).expect(201);
    return { email, cookie: sessionCookie(res), userId: res.body.user.id };
  }

  async function phoneSignIn(
    c: Client,
    { local, e164 } = saudiMobile(),
  ): Promise<{ cookie: string; userId: string; e164: string; local: string }> {
    await c.post('/auth/otp/send').send({ method: 'phone', phone: local }).expect(200);
    const res = await c
      .post('/auth/otp/verify')
      .send({ method: 'phone', phone: local, otp: sms.lastCodeFor(e164) })
      .expect(200);
    return { cookie: sessionCookie(res), userId: res.body.user.id, e164, local };
  }

  const rows = (where: FindOptionsWhere<SecurityEvent>) => dataSource.getRepository(SecurityEvent).findBy(where);

  beforeAll(async () => {
    database = await db.create();
    provider = await startMockOidcProvider(OIDC_CLIENT);
    ({ app, sms } = await createTwoFactorTestApp(database.options, {
      otp: { resendCooldown: 0 },
      providers: [
        oidc({
          ...OIDC_CLIENT,
          issuer: provider.issuer,
          redirectUri: `${APP_URL}/auth/callback/oidc`,
          allowInsecureRequests: true,
        }),
      ],
    }));
    // Each client sends its own address through the proxy header.
    (app as unknown as { set(k: string, v: unknown): void }).set('trust proxy', true);
    dataSource = app.get(DataSource);
    dataSource.subscribers.push(failer);
    app.get(SecurityEventBus).on('*', (event) => void published.push(event));
  });

  afterAll(async () => {
    await app?.close();
    await provider?.stop();
    await database?.drop();
  });

  beforeEach(() => {
    failer.armed = null;
  });

  it('records an OAuth sign-up and a later OAuth sign-in as oauth:<provider>, with address, agent and session', async () => {
    const sub = `oidc-${randomBytes(5).toString('hex')}`;
    const first = client('OAuthPhone/1');
    provider.nextLogin({ sub, email: `${sub}@example.com`, email_verified: true });
    const signedUp = await viaOidc(first);
    expect(signedUp.status).toBe(302);
    const again = client('OAuthLaptop/2');
    provider.nextLogin({ sub, email: `${sub}@example.com`, email_verified: true });
    const signedIn = await viaOidc(again);
    expect(signedIn.status).toBe(302);
    const cookie = sessionCookie(signedIn);

    const session = await again.get('/auth/session', cookie).expect(200);
    const userId = session.body.user.id as string;
    const list = await events(again, cookie);
    expect(list).toEqual([
      expect.objectContaining({
        type: 'sign_in.succeeded',
        method: 'oauth:oidc',
        ip: expect.stringContaining(again.ip),
        userAgent: 'OAuthLaptop/2',
        detail: { sessionId: session.body.session.id },
      }),
      expect.objectContaining({
        type: 'sign_in.succeeded',
        method: 'oauth:oidc',
        ip: expect.stringContaining(first.ip),
        userAgent: 'OAuthPhone/1',
        detail: { sessionId: expect.any(String), newUser: true },
      }),
    ]);
    expect(sessionCookie(signedUp)).not.toBe(cookie);
    // Published once committed, with the owner.
    expect(published.filter((e) => e.userId === userId).map((e) => [e.type, e.method, e.userAgent])).toEqual([
      ['sign_in.succeeded', 'oauth:oidc', 'OAuthPhone/1'],
      ['sign_in.succeeded', 'oauth:oidc', 'OAuthLaptop/2'],
    ]);
  });

  it('records a failed OAuth callback (denied at the provider, bad state) with the provider, no account and no secret', async () => {
    const denied = client('OAuthDenied/1');
    provider.denyNext('access_denied');
    const res = await viaOidc(denied);
    expectErrorBody(res, 400, 'OAUTH_PROVIDER_ERROR');
    expect(res.headers['set-cookie']?.toString() ?? '').not.toMatch(/auth_session=[^;]/);
    const [row] = await rows({ userAgent: 'OAuthDenied/1' });
    expect(row).toMatchObject({
      type: 'sign_in.failed',
      method: 'oauth:oidc',
      userId: null,
      ip: expect.stringContaining(denied.ip),
      detail: JSON.stringify({ reason: 'OAUTH_PROVIDER_ERROR' }),
    });

    const replayed = client('OAuthReplay/1');
    const started = await replayed.get('/auth/sign-in/oidc').expect(302);
    const state = new URL(started.headers.location).searchParams.get('state')!;
    expectErrorBody(
      await replayed.get(`/auth/callback/oidc?code=stolen-code&state=${state}`),
      400,
      'OAUTH_STATE_MISMATCH',
    );
    const [mismatch] = await rows({ userAgent: 'OAuthReplay/1' });
    expect(mismatch).toMatchObject({ type: 'sign_in.failed', method: 'oauth:oidc', userId: null });
    expect(JSON.parse(mismatch.detail!)).toEqual({ reason: 'OAUTH_STATE_MISMATCH' });
    expect(JSON.stringify(mismatch)).not.toContain(state);
    expect(JSON.stringify(mismatch)).not.toContain('stolen-code');
  });

  it('records no event for a provider that does not exist', async () => {
    const c = client('OAuthUnknown/1');
    expectErrorBody(await c.get('/auth/callback/nosuchprovider?code=x&state=y'), 404, 'UNKNOWN_PROVIDER');
    expect(await rows({ userAgent: 'OAuthUnknown/1' })).toEqual([]);
  });

  it('records a passkey added, a passkey sign-in, a refused assertion and the passkey removed', async () => {
    const laptop = client('PasskeyLaptop/1');
    const { cookie, userId } = await signUp(laptop);
    const authenticator = new SoftwarePasskey();
    const creation = await laptop.post('/auth/passkey/register/options', cookie).expect(200);
    const added = await laptop
      .post('/auth/passkey/register/verify', cookie)
      .send({ response: authenticator.register(creation.body), name: 'Laptop' })
      .expect(200);
    const passkeyId = added.body.passkey.id as string;

    const phone = client('PasskeyPhone/2');
    const options = await phone.post('/auth/passkey/authenticate/options').expect(200);
    const signedIn = await phone
      .post('/auth/passkey/authenticate/verify')
      .send({ response: authenticator.authenticate(options.body) })
      .expect(200);
    const passkeyCookie = sessionCookie(signedIn);
    expect(signedIn.body.user.id).toBe(userId);

    const forged = client('PasskeyForged/3');
    const next = await forged.post('/auth/passkey/authenticate/options').expect(200);
    const refused = await forged
      .post('/auth/passkey/authenticate/verify')
      .send({ response: authenticator.authenticate(next.body, true) });
    expectErrorBody(refused, 400, 'PASSKEY_INVALID');

    await phone.del(`/auth/passkeys/${passkeyId}`, passkeyCookie).expect(200);
    const list = await events(phone, passkeyCookie, 5);
    expect(list.map((e) => [e.type, e.method, e.userAgent])).toEqual([
      ['passkey.removed', 'passkey', 'PasskeyPhone/2'],
      ['sign_in.failed', 'passkey', 'PasskeyForged/3'],
      ['sign_in.succeeded', 'passkey', 'PasskeyPhone/2'],
      ['passkey.added', 'passkey', 'PasskeyLaptop/1'],
      ['sign_in.succeeded', 'password', 'PasskeyLaptop/1'],
    ]);
    expect(list[0]).toMatchObject({ ip: expect.stringContaining(phone.ip), detail: { passkeyId } });
    expect(list[1]).toMatchObject({ ip: expect.stringContaining(forged.ip), detail: { reason: 'PASSKEY_INVALID' } });
    expect(list[2]).toMatchObject({ detail: { sessionId: signedIn.body.session.id } });
    expect(list[3]).toMatchObject({
      ip: expect.stringContaining(laptop.ip),
      detail: { passkeyId, deviceType: 'singleDevice' },
    });
    // Nothing of the credential itself is stored with the events.
    expect(JSON.stringify(await rows({ userId }))).not.toContain(authenticator.id);
  });

  it('records a password reset by phone with method phone, address and agent', async () => {
    const c = client('ResetPhone/1');
    const { userId, e164, local } = await phoneSignIn(c);
    await c.post('/auth/forgot-password').send({ method: 'phone', phone: local }).expect(200);
    const otp = sms.lastCodeFor(e164)!;
    await c
      .post('/auth/reset-password')
      .send({ method: 'phone', phone: local, otp, newPassword: OTHER_PASSWORD })
      .expect(200);
    const { cookie } = await phoneSignIn(c, { local, e164 });
    const list = await events(c, cookie, 3);
    expect(list.map((e) => [e.type, e.method])).toEqual([
      ['sign_in.succeeded', 'phone'],
      ['password.reset', 'phone'],
      ['sign_in.succeeded', 'phone'],
    ]);
    expect(list[1]).toMatchObject({ ip: expect.stringContaining(c.ip), userAgent: 'ResetPhone/1', detail: null });
    const stored = await rows({ userId, type: 'password.reset' });
    expect(stored).toHaveLength(1);
    expect(JSON.stringify(stored)).not.toContain(otp);
    expect(JSON.stringify(stored)).not.toContain(e164.slice(4));
  });

  it('records 40 parallel wrong phone codes, each refused with 4xx and none lost', async () => {
    const c = client('Parallel/1');
    const { userId, local } = await phoneSignIn(c);
    await c.post('/auth/otp/send').send({ method: 'phone', phone: local }).expect(200);
    const before = (await rows({ userId, type: 'sign_in.failed' })).length;
    // Wrong codes answer at once (no hashing to space them out): the event writes overlap.
    const answers = await Promise.all(
      Array.from({ length: 40 }, () =>
        client('Parallel/2').post('/auth/otp/verify').send({ method: 'phone', phone: local, otp: '000000' }),
      ),
    );
    expect(answers.filter((res) => res.status !== 400 && res.status !== 429)).toEqual([]);
    // Every refusal is a failed attempt on the account (a wrong code, or one refused by the guess limits).
    expect((await rows({ userId, type: 'sign_in.failed' })).length - before).toBe(40);
  });

  it('leaves no session, no cookie and no event when the sign-in event cannot be written', async () => {
    const c = client('EventFails/1');
    const { email, userId } = await signUp(c);
    const before = await dataSource.getRepository(Session).countBy({ userId });
    const heard = published.length;
    failer.armed = 'sign_in.succeeded';
    failer.when = 'before'; // the database refuses the INSERT
    const res = await c.post('/auth/sign-in').send({ method: 'email', email, password: GOOD_PASSWORD });
    failer.when = 'after';
    expect(failer.armed).toBeNull(); // the write was attempted and failed
    expect(res.status).toBeGreaterThanOrEqual(500);
    expect(res.headers['set-cookie']?.toString() ?? '').not.toMatch(/auth_session=[^;]/);
    expect(await dataSource.getRepository(Session).countBy({ userId })).toBe(before);
    expect(await rows({ userId, type: 'sign_in.succeeded' })).toHaveLength(1); // the sign-up's only
    expect(published.slice(heard).filter((e) => e.userId === userId)).toEqual([]);
    // The next attempt signs in as usual.
    await c.post('/auth/sign-in').send({ method: 'email', email, password: GOOD_PASSWORD }).expect(200);
  });
});
