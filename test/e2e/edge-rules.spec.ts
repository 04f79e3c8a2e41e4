import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, type INestApplication, Injectable, Module, Post, Req, UseGuards } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import request from 'supertest';
import type { DataSourceOptions } from 'typeorm';
import type { Response } from 'supertest';
import { DataSource } from 'typeorm';
import {
  ARRAF_AUTH_ENTITIES,
  ArrafAuthModule,
  github,
  OtpAuthGuard,
  PasswordAuthGuard,
  PasswordStrategy,
  RATE_LIMIT_STORE,
  Session,
  SMS_PROVIDER,
  User,
} from '../../src/index.js';
import { InMemorySmsProvider } from '../../src/testing/index.js';
import { MemoryRateLimitStore } from '../../src/rate-limit/memory.rate-limit-store.js';
import type { RateLimitHit } from '../../src/rate-limit/rate-limit-store.interface.js';
import { GOOD_PASSWORD, sessionCookie } from '../apps/password-test-app.js';
import {
  APP_ORIGIN,
  createSecurityTestApp,
  randomIpv4,
  type SecurityTestApp,
  uniqueEmail,
  uniquePhone,
} from '../apps/security-test-app.js';
import { type Platform, TEST_SECRET } from '../apps/test-app.js';
import { type TestDatabase, testDatabases } from '../helpers/databases.js';
import { expectError, expectTooMany } from './otp.helpers.js';

/**
 * The edge rules the routes declare (origin, body schema, rate limits, sign-in answer), proved
 * through HTTP on both platforms: each test fails if its rule is not applied.
 */

/** A rate-limit store that records every key it is asked to count, so a test can see what was spent. */
@Injectable()
class RecordingStore extends MemoryRateLimitStore {
  readonly keys: string[] = [];

  override async hit(key: string, windowSeconds: number): Promise<RateLimitHit> {
    this.keys.push(key);
    return super.hit(key, windowSeconds);
  }
}

const SMALL_LIMITS = {
  'sign-up:identifier': { limit: 2, window: 3600 },
  'oauth-sign-in:ip': { limit: 2, window: 600 },
  'oauth-callback:ip': { limit: 2, window: 600 },
};

describe.each<Platform>(['express', 'fastify'])('edge rules on %s', (platform) => {
  let database: Awaited<ReturnType<TestDatabase['create']>>;
  let t: SecurityTestApp;
  let store: RecordingStore;
  let relaxed: SecurityTestApp;

  const post = (path: string, body: object, headers: Record<string, string> = {}) =>
    t.http().post(path).set('X-Forwarded-For', randomIpv4()).set(headers).send(body);
  const signUp = async (email = uniqueEmail()) => {
    const res = await post('/auth/sign-up', { email, password: GOOD_PASSWORD });
    expect(res.status).toBe(201);
    return { email, cookie: sessionCookie(res), sessionId: res.body.session.id as string };
  };
  const currentSession = (cookie: string) => t.http().get('/auth/session').set('Cookie', cookie);

  beforeAll(async () => {
    database = await testDatabases()[0].create();
    store = new RecordingStore();
    const providers = [github({ clientId: 'Iv1.edge', clientSecret: 'edge-secret', redirectUri: `${APP_ORIGIN}/cb` })];
    t = await createSecurityTestApp({
      database: database.options,
      platform,
      auth: { rateLimit: { limits: SMALL_LIMITS }, providers },
      configure: (builder) => builder.overrideProvider(RATE_LIMIT_STORE).useValue(store),
    });
    relaxed = await createSecurityTestApp({ database: database.options, platform, auth: { allowMissingOrigin: true } });
  });

  afterAll(async () => {
    await t?.app.close();
    await relaxed?.app.close();
    await database?.drop();
  });

  it('ends the session the request already carries when it signs in again (S3): the planted cookie is dead', async () => {
    const victim = await signUp();
    const signIn = await post(
      '/auth/sign-in',
      { method: 'email', email: victim.email, password: GOOD_PASSWORD },
      { Cookie: victim.cookie, Origin: APP_ORIGIN },
    );
    expect(signIn.status).toBe(200);
    expect(signIn.body.session.id).not.toBe(victim.sessionId);
    expect(sessionCookie(signIn)).not.toBe(victim.cookie);
    expect((await currentSession(victim.cookie)).body).toEqual({ user: null, session: null });
    expect((await currentSession(sessionCookie(signIn))).body.session.id).toBe(signIn.body.session.id);
    expect(await t.app.get(DataSource).getRepository(Session).countBy({ id: victim.sessionId })).toBe(0);
  });

  it('ends the carried session on an OTP sign-in and on sign-up too', async () => {
    const first = await signUp();
    const phone = uniquePhone();
    expect((await post('/auth/otp/send', { method: 'phone', phone: phone.local })).status).toBe(200);
    const otp = t.sms.lastCodeFor(phone.e164);
    const verify = await post(
      '/auth/otp/verify',
      { method: 'phone', phone: phone.local, otp },
      { Cookie: first.cookie, Origin: APP_ORIGIN },
    );
    expect(verify.status).toBe(200);
    expect(verify.body.isNewUser).toBe(true);
    expect((await currentSession(first.cookie)).body.session).toBeNull();

    const second = await post(
      '/auth/sign-up',
      { email: uniqueEmail(), password: GOOD_PASSWORD },
      { Cookie: sessionCookie(verify), Origin: APP_ORIGIN },
    );
    expect(second.status).toBe(201);
    expect((await currentSession(sessionCookie(verify))).body.session).toBeNull();
  });

  it('refuses a cookie request with neither Origin nor Referer on state-changing routes, unless allowMissingOrigin', async () => {
    const user = await signUp();
    expectError(await t.http().post('/auth/sign-out').set('Cookie', user.cookie), 403, 'INVALID_ORIGIN');
    expect((await currentSession(user.cookie)).body.session.id).toBe(user.sessionId);
    // Without a cookie there is no ambient authority to abuse: a native client without Origin passes.
    expect((await t.http().post('/auth/sign-out')).status).toBe(200);
    // The same request from the app's own page.
    expect((await t.http().post('/auth/sign-out').set('Cookie', user.cookie).set('Origin', APP_ORIGIN)).status).toBe(
      200,
    );

    const other = await relaxed.http().post('/auth/sign-up').send({ email: uniqueEmail(), password: GOOD_PASSWORD });
    expect(other.status).toBe(201);
    expect((await relaxed.http().post('/auth/sign-out').set('Cookie', sessionCookie(other))).status).toBe(200);
    // allowMissingOrigin lets a missing header through, never a foreign one.
    const again = await relaxed.http().post('/auth/sign-up').send({ email: uniqueEmail(), password: GOOD_PASSWORD });
    const cross = relaxed
      .http()
      .post('/auth/sign-out')
      .set('Cookie', sessionCookie(again))
      .set('Origin', 'https://x.example');
    expectError(await cross, 403, 'INVALID_ORIGIN');
  });

  it.each([
    ['/auth/otp/send', 'method=phone&phone=0551234567'],
    ['/auth/otp/verify', 'method=phone&phone=0551234567&otp=123456'],
    ['/auth/sign-in', 'method=email&email=a%40example.com&password=x'],
    ['/auth/sign-up', 'email=a%40example.com&password=correct+horse+battery+staple'],
  ])(
    'requires JSON: a form post to %s (a CORS simple request) is 400 INVALID_INPUT and sends nothing',
    async (path, form) => {
      const sent = t.sms.messages.length;
      const res = await t
        .http()
        .post(path)
        .set('X-Forwarded-For', randomIpv4())
        .set('Content-Type', 'application/x-www-form-urlencoded')
        .send(form);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('INVALID_INPUT');
      expect(t.sms.messages.length).toBe(sent);
    },
  );

  it.each([
    ['/auth/otp/send', { method: 'phone' }, 'phone'],
    ['/auth/otp/send', { method: 'phone', phone: '0551234567', extra: 1 }, 'extra'],
    ['/auth/otp/verify', { method: 'phone', phone: '0551234567', otp: 123456 }, 'otp'],
    ['/auth/sign-in', { method: 'email', email: 'a@example.com' }, 'password'],
    ['/auth/sign-in', { method: 'fax', email: 'a@example.com' }, 'method'],
    ['/auth/sign-up', { phone: '0551234567', name: 7 }, 'name'],
    ['/auth/sign-up', { email: 'a@example.com' }, 'password'],
    ['/auth/reset-password', { method: 'email', email: 'a@example.com', otp: '12345x', newPassword: 'x' }, 'otp'],
    ['/auth/verify-email', { token: 'short' }, 'token'],
  ])('names the field of an invalid body: %s %j → field %s, in English and Arabic', async (path, body, field) => {
    const res = await post(path, body);
    expectError(res, 400, 'INVALID_INPUT');
    expect(res.body.error.field).toBe(field);
    expect(res.body.error.en).toContain(field);
    expect(res.body.error.ar).toContain(field);
  });

  it('spends no sign-up limit on a refused sign-up (weak password, invalid input); attempts that could create an account do', async () => {
    const email = uniqueEmail('weak');
    const identifierKey = `sign-up:identifier:${email}`;
    for (const password of ['short', 'password123', 'aaaaaaaaaaaa', `${email}1`]) {
      const res = await post('/auth/sign-up', { email, password });
      expect([password, res.status]).toEqual([password, 400]);
    }
    expectError(await post('/auth/sign-up', { email, password: 7 }), 400, 'INVALID_INPUT');
    expect(store.keys.filter((key) => key === identifierKey)).toEqual([]);
    // The limit (2 here) is still there for attempts that could create an account.
    expect((await post('/auth/sign-up', { email, password: GOOD_PASSWORD })).status).toBe(201);
    expectError(await post('/auth/sign-up', { email, password: GOOD_PASSWORD }), 409, 'USER_ALREADY_EXISTS');
    expectTooMany(await post('/auth/sign-up', { email, password: GOOD_PASSWORD }), 'RATE_LIMITED', 3600);
    expect(store.keys.filter((key) => key === identifierKey)).toHaveLength(3);
  });

  it('limits GET sign-in/:provider and callback/:provider per client address (429, Retry-After), through the injected store', async () => {
    const ip = randomIpv4();
    const start = () => t.http().get('/auth/sign-in/github?redirectTo=/').set('X-Forwarded-For', ip);
    const callback = () => t.http().get('/auth/callback/github?code=c&state=s').set('X-Forwarded-For', ip);
    for (let i = 0; i < 2; i++) expect((await start()).status).toBe(302);
    expectTooMany(await start(), 'RATE_LIMITED', 600);
    for (let i = 0; i < 2; i++) expectError(await callback(), 400, 'OAUTH_STATE_MISMATCH');
    expectTooMany(await callback(), 'RATE_LIMITED', 600);
    expect(store.keys).toContain(`oauth-callback:ip:${ip}`);
    // Another address goes on.
    expect((await t.http().get('/auth/sign-in/github').set('X-Forwarded-For', randomIpv4())).status).toBe(302);
  });
});

describe('one Passport integration', () => {
  let database: Awaited<ReturnType<TestDatabase['create']>>;
  let t: SecurityTestApp;
  const seen: string[] = [];

  @Injectable()
  class SpyPasswordStrategy extends PasswordStrategy {
    override async validate(request: Parameters<PasswordStrategy['validate']>[0]): Promise<User> {
      seen.push('spy');
      return super.validate(request);
    }
  }

  beforeAll(async () => {
    database = await testDatabases()[0].create();
    t = await createSecurityTestApp({
      database: database.options,
      configure: (builder) => builder.overrideProvider(PasswordStrategy).useClass(SpyPasswordStrategy),
    });
  });

  afterAll(async () => {
    await t?.app.close();
    await database?.drop();
  });

  it("runs the application's own (overridden) strategy instance on the built-in route, and hands the user over once", async () => {
    const email = uniqueEmail();
    expect((await t.http().post('/auth/sign-up').send({ email, password: GOOD_PASSWORD })).status).toBe(201);
    const res: Response = await t
      .http()
      .post('/auth/sign-in')
      .send({ method: 'email', email, password: GOOD_PASSWORD });
    expect(res.status).toBe(200);
    expect(seen).toEqual(['spy']);
    expectError(
      await t.http().post('/auth/sign-in').send({ method: 'email', email, password: 'wrong password here' }),
      401,
      'INVALID_CREDENTIALS',
    );
    expect(seen).toEqual(['spy', 'spy']);
  });
});

/** An application's own sign-in routes, guarded by the exported strategy guards. */
@Controller('app')
class OwnLoginController {
  @Post('password-login')
  @UseGuards(PasswordAuthGuard)
  password(@Req() req: { user: User; authInfo?: unknown }) {
    return { userId: req.user.id, authInfo: req.authInfo ?? null };
  }

  @Post('phone-login')
  @UseGuards(OtpAuthGuard)
  phone(@Req() req: { user: User; authInfo?: { phone: string; isNewUser: boolean } }) {
    return { userId: req.user.id, phone: req.authInfo?.phone, isNewUser: req.authInfo?.isNewUser };
  }
}

describe("the strategy guards on an application's own routes", () => {
  let database: Awaited<ReturnType<TestDatabase['create']>>;
  let app: INestApplication;
  const sms = new InMemorySmsProvider();
  const http = () => request(app.getHttpServer());

  beforeAll(async () => {
    database = await testDatabases()[0].create();
    @Module({
      imports: [
        TypeOrmModule.forRoot({
          ...database.options,
          entities: ARRAF_AUTH_ENTITIES,
          synchronize: true,
        } as DataSourceOptions),
        ArrafAuthModule.forRoot({ secret: TEST_SECRET, appUrl: APP_ORIGIN, otp: { resendCooldown: 0 } }),
      ],
      controllers: [OwnLoginController],
    })
    class OwnApp {}
    const moduleRef = await Test.createTestingModule({ imports: [OwnApp] })
      .overrideProvider(SMS_PROVIDER)
      .useValue(sms)
      .compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
  });

  afterAll(async () => {
    await app?.close();
    await database?.drop();
  });

  it('refuses a sign-in from another site (login CSRF) before checking anything, and hands the user over as request.user', async () => {
    const email = uniqueEmail();
    expect((await http().post('/auth/sign-up').send({ email, password: GOOD_PASSWORD })).status).toBe(201);
    const body = { method: 'email', email, password: GOOD_PASSWORD };
    const login = () => http().post('/app/password-login');
    expectError(await login().set('Origin', 'https://evil.example').send(body), 403, 'INVALID_ORIGIN');
    const ok = await login().set('Origin', APP_ORIGIN).send(body);
    expect({ status: ok.status, authInfo: ok.body.authInfo }).toEqual({ status: 201, authInfo: null });
    expectError(await login().send({ ...body, password: 'not the password' }), 401, 'INVALID_CREDENTIALS');
    expectError(await login().send({ method: 'email', email }), 400, 'INVALID_INPUT');
  });

  it('hands the OTP result over as request.authInfo, and answers a wrong code with OTP_INVALID', async () => {
    const phone = uniquePhone();
    expect((await http().post('/auth/otp/send').send({ method: 'phone', phone: phone.local })).status).toBe(200);
    const otp = sms.lastCodeFor(phone.e164);
    expectError(
      await http()
        .post('/app/phone-login')
        .send({ method: 'phone', phone: phone.local, otp: otp === '000000' ? '111111' : '000000' }),
      400,
      'OTP_INVALID',
    );
    const res = await http().post('/app/phone-login').send({ method: 'phone', phone: phone.local, otp });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ userId: expect.any(String), phone: phone.e164, isNewUser: true });
  });
});
