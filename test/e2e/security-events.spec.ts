import 'reflect-metadata';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { type DynamicModule, Injectable, type INestApplication, Module } from '@nestjs/common';
import { EventEmitterModule, OnEvent } from '@nestjs/event-emitter';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import request from 'supertest';
import { DataSource, type DataSourceOptions, IsNull } from 'typeorm';
import {
  ARRAF_AUTH_ENTITIES,
  ArrafAuthModule,
  type ArrafAuthOptions,
  github,
  type PublishedSecurityEvent,
  SecurityEvent,
  SecurityEventBus,
  SMS_PROVIDER,
} from '../../src/index.js';
import { InMemorySmsProvider } from '../../src/testing/index.js';
import {
  expectErrorBody,
  freshEmail,
  GOOD_PASSWORD,
  OTHER_PASSWORD,
  sessionCookie,
} from '../apps/password-test-app.js';
import { TEST_SECRET } from '../apps/test-app.js';
import { Authenticator, cookieFrom } from '../apps/two-factor-test-app.js';
import { type TestDatabase, testDatabases } from '../helpers/databases.js';
import { FailAfterEventInsert } from '../helpers/security-event-failure.js';
import { saudiMobile, uniqueIp, wrongCode } from './otp.helpers.js';

const APP_URL = 'http://app.example.test';
const ORIGIN = { Origin: APP_URL };
const PENDING = 'arraf_2fa_pending';

/** What an application's `@OnEvent` handler heard. */
@Injectable()
class NewDeviceNotifier {
  static readonly heard: PublishedSecurityEvent<'sign_in.succeeded'>[] = [];

  @OnEvent('arraf-auth.sign_in.succeeded')
  onSignIn(event: PublishedSecurityEvent<'sign_in.succeeded'>): void {
    NewDeviceNotifier.heard.push(event);
  }
}

async function createApp(database: DataSourceOptions, resets: { code?: string }[]) {
  const options: ArrafAuthOptions = {
    secret: TEST_SECRET,
    appUrl: APP_URL,
    session: { cookieOptions: { secure: false } },
    otp: { resendCooldown: 0 },
    rateLimit: { limits: { 'sign-in:ip': { limit: 10_000, window: 600 } } },
    providers: [
      github({
        clientId: 'client',
        clientSecret: 'secret-of-the-client',
        redirectUri: `${APP_URL}/auth/callback/github`,
      }),
    ],
    callbacks: { onForgotPassword: (delivery) => void resets.push(delivery) },
  };
  @Module({
    imports: [
      EventEmitterModule.forRoot(),
      TypeOrmModule.forRoot({ ...database, entities: ARRAF_AUTH_ENTITIES, synchronize: true } as DataSourceOptions),
      ArrafAuthModule.forRoot(options) as DynamicModule,
    ],
    providers: [NewDeviceNotifier],
  })
  class AppModule {}
  const sms = new InMemorySmsProvider();
  const moduleRef = await Test.createTestingModule({ imports: [AppModule] })
    .overrideProvider(SMS_PROVIDER)
    .useValue(sms)
    .compile();
  const app = moduleRef.createNestApplication({ logger: false });
  (app as unknown as { set(k: string, v: unknown): void }).set('trust proxy', true);
  await app.init();
  return { app, sms };
}

describe.each(testDatabases())('security events on $name', (db: TestDatabase) => {
  let database: Awaited<ReturnType<TestDatabase['create']>>;
  let app: INestApplication;
  let sms: InMemorySmsProvider;
  let dataSource: DataSource;
  const resets: { code?: string }[] = [];
  const failer = new FailAfterEventInsert();
  const published: PublishedSecurityEvent[] = [];
  const secrets: string[] = [];

  /** One client: its own address and user agent on every request. */
  function client(userAgent = `Browser/${Math.random().toString(36).slice(2)}`, ip = uniqueIp()) {
    const http = () => request(app.getHttpServer());
    const headers = { ...ORIGIN, 'User-Agent': userAgent, 'X-Forwarded-For': ip };
    return {
      ip,
      userAgent,
      post: (path: string, cookie?: string) => {
        const req = http().post(path).set(headers);
        return cookie === undefined ? req : req.set('Cookie', cookie);
      },
      get: (path: string, cookie?: string) => {
        const req = http().get(path).set(headers);
        return cookie === undefined ? req : req.set('Cookie', cookie);
      },
      del: (path: string, cookie: string) => http().delete(path).set(headers).set('Cookie', cookie),
    };
  }
  type Client = ReturnType<typeof client>;

  async function signUp(c: Client = client()): Promise<{ email: string; cookie: string; userId: string }> {
    const email = freshEmail('ev');
    const res = await c.post('/auth/sign-up').send({ email, password: GOOD_PASSWORD }).expect(201);
    secrets.push(sessionCookie(res).split('=')[1]);
    return { email, cookie: sessionCookie(res), userId: res.body.user.id };
  }

  function signIn(c: Client, email: string, password = GOOD_PASSWORD) {
    return c.post('/auth/sign-in').send({ method: 'email', email, password });
  }

  async function events(c: Client, cookie: string, query = ''): Promise<Record<string, unknown>[]> {
    const res = await c.get(`/auth/account/events${query}`, cookie).expect(200);
    return res.body.events;
  }

  /** `request.ip` of an address sent through the trusted proxy header. */
  const ipOf = (c: Client) => expect.stringContaining(c.ip);

  beforeAll(async () => {
    database = await db.create();
    ({ app, sms } = await createApp(database.options, resets));
    dataSource = app.get(DataSource);
    dataSource.subscribers.push(failer);
    app.get(SecurityEventBus).on('*', (event) => void published.push(event));
  });

  afterAll(async () => {
    await app?.close();
    await database?.drop();
  });

  beforeEach(() => {
    failer.armed = null;
  });

  it('records a password sign-up, a wrong password, a sign-in, a change and a sign-out with method, address and agent', async () => {
    const phone = client('Phone/1.0');
    const { email, cookie, userId } = await signUp(phone);
    const laptop = client('Laptop/2.0');
    await signIn(laptop, email, OTHER_PASSWORD).expect(401);
    const second = sessionCookie(await signIn(laptop, email).expect(200));
    await laptop
      .post('/auth/change-password', second)
      .send({ currentPassword: GOOD_PASSWORD, newPassword: OTHER_PASSWORD })
      .expect(200);
    await phone.post('/auth/sign-out', cookie).expect(200); // revoked by the change: nothing to record
    await laptop.post('/auth/sign-out', second).expect(200);
    const third = sessionCookie(await signIn(laptop, email, OTHER_PASSWORD).expect(200));

    const list = await events(laptop, third);
    expect(list.map((e) => [e.type, e.method, e.userAgent])).toEqual([
      ['sign_in.succeeded', 'password', 'Laptop/2.0'],
      ['sign_out', null, 'Laptop/2.0'],
      ['password.changed', null, 'Laptop/2.0'],
      ['sign_in.succeeded', 'password', 'Laptop/2.0'],
      ['sign_in.failed', 'password', 'Laptop/2.0'],
      ['sign_in.succeeded', 'password', 'Phone/1.0'],
      ['password.set', null, 'Phone/1.0'],
    ]);
    expect(list[4]).toMatchObject({ ip: ipOf(laptop), detail: { reason: 'INVALID_CREDENTIALS' } });
    expect(list[5]).toMatchObject({ ip: ipOf(phone), detail: { sessionId: expect.any(String) } });
    expect(list[2]).toMatchObject({ detail: { revokedSessions: 1 } });
    for (const event of list) {
      expect(Object.keys(event).sort()).toEqual(['createdAt', 'detail', 'id', 'ip', 'method', 'type', 'userAgent']);
      expect(new Date(event.createdAt as string).toISOString()).toBe(event.createdAt);
    }
    // The bus heard each of them, committed, with the owner.
    const mine = published.filter((e) => e.userId === userId).map((e) => e.type);
    expect(mine).toEqual(list.map((e) => e.type).reverse());
  });

  it('records phone sign-ins and wrong codes, on the account only when the number has one', async () => {
    const c = client('Android/14');
    const { local, e164 } = saudiMobile();
    await c.post('/auth/otp/send').send({ method: 'phone', phone: local }).expect(200);
    const code = sms.lastCodeFor(e164)!;
    secrets.push(code);
    await c
      .post('/auth/otp/verify')
      .send({ method: 'phone', phone: local, otp: wrongCode(code) })
      .expect(400);
    const res = await c.post('/auth/otp/verify').send({ method: 'phone', phone: local, otp: code }).expect(200);
    const cookie = sessionCookie(res);
    await c.post('/auth/otp/send').send({ method: 'phone', phone: local }).expect(200);
    const next = sms.lastCodeFor(e164)!;
    await c
      .post('/auth/otp/verify')
      .send({ method: 'phone', phone: local, otp: wrongCode(next) })
      .expect(400);

    const list = await events(c, cookie);
    expect(list.map((e) => [e.type, e.method])).toEqual([
      ['sign_in.failed', 'phone'],
      ['sign_in.succeeded', 'phone'],
    ]);
    expect(list[1]).toMatchObject({ ip: ipOf(c), userAgent: 'Android/14', detail: { newUser: true } });
    // Before the account existed, the wrong code named no account, and nothing identifies the number.
    const orphan = await dataSource
      .getRepository(SecurityEvent)
      .findOneByOrFail({ type: 'sign_in.failed', userAgent: 'Android/14', userId: IsNull() });
    expect(orphan).toMatchObject({ method: 'phone', detail: JSON.stringify({ reason: 'OTP_INVALID' }) });
    expect(JSON.stringify(orphan)).not.toContain(e164.slice(4));
  });

  it('records an OAuth callback that fails, with the provider and no account', async () => {
    const c = client('OAuthAgent/1');
    await c
      .get('/auth/callback/github?code=abc&state=forged')
      .expect((res) => expect(res.status).toBeGreaterThanOrEqual(400));
    const row = await dataSource.getRepository(SecurityEvent).findOneByOrFail({ userAgent: 'OAuthAgent/1' });
    expect(row).toMatchObject({ type: 'sign_in.failed', method: 'oauth:github', userId: null });
  });

  it('records revoking one session and the others', async () => {
    const a = client();
    const { email, cookie } = await signUp(a);
    const b = client();
    const other = await signIn(b, email).expect(200);
    const otherId = other.body.session.id as string;
    await signIn(client(), email).expect(200);
    await signIn(client(), email).expect(200);
    await a.del(`/auth/sessions/${otherId}`, cookie).expect(200);
    await a.post('/auth/sessions/revoke-others', cookie).expect(200);
    const list = await events(a, cookie, '?limit=2');
    expect(list).toMatchObject([
      { type: 'session.revoked', detail: { others: true, count: 2 }, ip: ipOf(a) },
      { type: 'session.revoked', detail: { sessionId: otherId }, userAgent: a.userAgent },
    ]);
  });

  it('records a password reset by email', async () => {
    const c = client();
    const { email } = await signUp(c);
    await c.post('/auth/forgot-password').send({ method: 'email', email }).expect(200);
    const otp = resets.at(-1)!.code!;
    secrets.push(otp);
    await c.post('/auth/reset-password').send({ method: 'email', email, otp, newPassword: OTHER_PASSWORD }).expect(200);
    const cookie = sessionCookie(await signIn(c, email, OTHER_PASSWORD).expect(200));
    const list = await events(c, cookie, '?limit=2');
    expect(list[1]).toMatchObject({ type: 'password.reset', method: 'email', ip: ipOf(c), userAgent: c.userAgent });
  });

  it('records the second factor: enabled, a failed and a backup-code sign-in, regenerated, disabled', async () => {
    const c = client('Tablet/3');
    const { email, cookie } = await signUp(c);
    const enabled = await c.post('/auth/two-factor/enable', cookie).expect(200);
    const authenticator = new Authenticator(enabled.body.totpUri);
    secrets.push(authenticator.secret.base32, ...enabled.body.backupCodes);
    await c
      .post('/auth/two-factor/confirm', cookie)
      .send({ code: await authenticator.code(-1) })
      .expect(200);
    const pending = cookieFrom(await signIn(c, email).expect(200), PENDING)!;
    await c.post('/auth/two-factor/verify', pending).send({ code: '000000' }).expect(400);
    const done = await c
      .post('/auth/two-factor/verify', pending)
      .send({ backupCode: enabled.body.backupCodes[0] })
      .expect(200);
    const session = sessionCookie(done);
    await c.post('/auth/two-factor/backup-codes', session).expect(200);
    await c
      .post('/auth/two-factor/disable', session)
      .send({ code: await authenticator.code() })
      .expect(200);

    const list = await events(c, session, '?limit=7');
    expect(list.map((e) => [e.type, e.method])).toEqual([
      ['two_factor.disabled', 'totp'],
      ['two_factor.backup_codes_regenerated', null],
      ['sign_in.succeeded', 'backup_code'],
      ['two_factor.backup_code_used', 'backup_code'],
      ['sign_in.failed', 'totp'],
      ['two_factor.enabled', 'totp'],
      ['sign_in.succeeded', 'password'],
    ]);
    expect(list[2]).toMatchObject({ detail: { firstFactor: 'password' }, userAgent: 'Tablet/3', ip: ipOf(c) });
    expect(list[4]).toMatchObject({ detail: { reason: 'TWO_FACTOR_INVALID' } });
  });

  it('pages newest first by event id or by time, and shows the owner only', async () => {
    const c = client();
    const { email, cookie } = await signUp(c);
    for (let i = 0; i < 4; i++) await signIn(c, email).expect(200);
    const all = await events(c, cookie, '?limit=100');
    expect(all).toHaveLength(6);
    const times = all.map((e) => Date.parse(e.createdAt as string));
    expect([...times].sort((x, y) => y - x)).toEqual(times);

    const seen: unknown[] = [];
    let before = '';
    for (let page = 0; page < 3; page++) {
      const res = await c.get(`/auth/account/events?limit=2${before}`, cookie).expect(200);
      seen.push(...res.body.events.map((e: { id: string }) => e.id));
      expect(res.body.next === null).toBe(page === 2);
      before = `&before=${res.body.next}`;
    }
    expect(seen).toEqual(all.map((e) => e.id));
    const oldest = all.at(-1)!;
    const byTime = await events(c, cookie, `?before=${encodeURIComponent(all[4].createdAt as string)}`);
    expect(byTime.map((e) => e.id)).toEqual(
      Date.parse(all[4].createdAt as string) > Date.parse(oldest.createdAt as string) ? [oldest.id] : [],
    );

    // Another account sees none of these, and cannot page from one of them.
    const stranger = client();
    const other = await signUp(stranger);
    const theirs = await events(stranger, other.cookie, '?limit=100');
    expect(theirs.map((e) => e.id).filter((id) => all.some((mine) => mine.id === id))).toEqual([]);
    expect(theirs).toHaveLength(2);
    expectErrorBody(await stranger.get(`/auth/account/events?before=${all[0].id}`, other.cookie), 400, 'INVALID_INPUT');
  });

  it('rolls the event back with the change it records, and publishes nothing', async () => {
    const c = client();
    const { email, cookie, userId } = await signUp(c);
    const heard = published.length;
    failer.armed = 'password.changed';
    const res = await c
      .post('/auth/change-password', cookie)
      .send({ currentPassword: GOOD_PASSWORD, newPassword: OTHER_PASSWORD });
    expect(res.status).toBeGreaterThanOrEqual(500);
    expect(failer.armed).toBeNull(); // the row was written, then its transaction failed
    expect(await dataSource.getRepository(SecurityEvent).countBy({ userId, type: 'password.changed' })).toBe(0);
    await signIn(c, email, OTHER_PASSWORD).expect(401);
    await signIn(c, email, GOOD_PASSWORD).expect(200);
    expect(published.slice(heard).map((e) => e.type)).toEqual(['sign_in.failed', 'sign_in.succeeded']);
  });

  it("delivers sign-ins to a typed listener and to an application's @OnEvent handler", async () => {
    const bus = app.get(SecurityEventBus);
    const typed: PublishedSecurityEvent<'sign_in.succeeded'>[] = [];
    const stop = bus.on('sign_in.succeeded', (event) => {
      typed.push(event);
      throw new Error('a listener that throws never fails the sign-in');
    });
    const c = client('Notified/1');
    const { userId } = await signUp(c);
    stop();
    await signUp(client());
    expect(typed).toHaveLength(1);
    expect(typed[0]).toMatchObject({ type: 'sign_in.succeeded', userId, method: 'password', userAgent: 'Notified/1' });
    expect(typed[0].createdAt).toBeInstanceOf(Date);
    expect(NewDeviceNotifier.heard.find((e) => e.userId === userId)).toEqual(typed[0]);
  });

  it('refuses a bad query with INVALID_INPUT and a stranger with 401', async () => {
    const c = client();
    const { cookie } = await signUp(c);
    for (const [query, field] of [
      ['?limit=0', 'limit'],
      ['?limit=101', 'limit'],
      ['?limit=abc', 'limit'],
      ['?limit=1&limit=2', 'limit'],
      ['?before=yesterday', 'before'],
      ['?before=%27%20OR%201%3D1--', 'before'],
      ['?before=00000000-0000-4000-8000-000000000000', 'before'],
      ['?cursor=x', 'cursor'],
    ]) {
      const res = await c.get(`/auth/account/events${query}`, cookie);
      expectErrorBody(res, 400, 'INVALID_INPUT');
      expect(res.body.error.field).toBe(field);
    }
    expectErrorBody(await c.get('/auth/account/events'), 401, 'UNAUTHENTICATED');
    expectErrorBody(await c.get('/auth/account/events', 'auth_session=forged'), 401, 'UNAUTHENTICATED');
  });

  it('stores no secret: no password, code, backup code, authenticator secret or session token in any row', async () => {
    const rows = await dataSource.getRepository(SecurityEvent).find();
    expect(rows.length).toBeGreaterThan(20);
    const dump = JSON.stringify(rows);
    for (const secret of [GOOD_PASSWORD, OTHER_PASSWORD, ...secrets]) {
      expect(secret.length).toBeGreaterThan(5);
      expect(dump).not.toContain(secret);
    }
    expect(dump).not.toMatch(/@example|freshEmail|ev-/i);
  });
});
