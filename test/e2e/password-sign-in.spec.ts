import 'reflect-metadata';
import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import argon2 from 'argon2';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { Account, PasswordService, User } from '../../src/index.js';
import type { InMemorySmsProvider } from '../../src/testing/index.js';
import {
  createPasswordTestApp,
  expectErrorBody,
  freshEmail,
  GOOD_PASSWORD,
  OTHER_PASSWORD,
  phcParameters,
  sessionCookie,
  storedHash,
  tableCounts,
} from '../apps/password-test-app.js';
import type { Platform } from '../apps/test-app.js';
import { type TestDatabase, testDatabases } from '../helpers/databases.js';

/** Eight distinct precomposed letters (NFC), and the same letters decomposed (NFD: 16 code points). */
const ACCENTED = 'éàüöñçâî';
const ACCENTED_DECOMPOSED = ACCENTED.normalize('NFD');
/** Eight distinct emoji: 8 code points, 16 UTF-16 units, 32 bytes. */
const EMOJI = '🍎🍊🍋🍉🍇🍓🫐🥝';
/** 64 code points of Arabic text (128 UTF-8 bytes), no repetition of a short unit. */
const PLATFORMS: Platform[] = ['express', 'fastify'];
const ARABIC_64 = [...'كلمة المرور الطويلة تحمي الحساب من التخمين وتبقى سهلة التذكر دائما'].slice(0, 64).join('');

/** Every configured database, on each platform. */
const CASES = testDatabases().flatMap((db) => PLATFORMS.map((platform) => ({ db, platform, name: db.name })));

describe.each(CASES)('email + password on $name ($platform)', ({ db, platform }: (typeof CASES)[number]) => {
  let database: Awaited<ReturnType<TestDatabase['create']>>;
  let app: INestApplication;
  let sms: InMemorySmsProvider;
  let fastify: INestApplication;

  const http = () => request(app.getHttpServer());
  const signUp = (body: Record<string, unknown>) => http().post('/auth/sign-up').send(body);
  /** The sign-in code `POST otp/send` texts to `phone` (E.164), which a sign-up with that phone needs. */
  const codeFor = async (phone: string, e164: string) => {
    await http().post('/auth/otp/send').send({ method: 'phone', phone }).expect(200);
    return sms.lastCodeFor(e164)!;
  };
  const signIn = (email: string, password: string) =>
    http().post('/auth/sign-in').send({ method: 'email', email, password });
  const users = () => app.get(DataSource).getRepository(User);

  beforeAll(async () => {
    database = await db.create();
    const auth = { password: { maxLength: 64 } };
    ({ app, sms } = await createPasswordTestApp({ database: database.options, platform, auth }));
    ({ app: fastify } = await createPasswordTestApp({ database: database.options, platform: 'fastify' }));
  });

  afterAll(async () => {
    await app?.close();
    await fastify?.close();
    await database?.drop();
  });

  afterEach(() => {
    jest.restoreAllMocks();
  });

  it('signs up, signs in with a new session each time, and the cookies work', async () => {
    const email = freshEmail();
    const created = await signUp({ email, password: GOOD_PASSWORD, name: '  Sara Al-Qahtani ' }).expect(201);
    expect(created.body).toStrictEqual({
      user: {
        id: expect.any(String),
        email,
        phone: null,
        name: 'Sara Al-Qahtani',
        image: null,
        emailVerified: false,
        phoneVerified: false,
      },
      session: { id: expect.any(String), userId: created.body.user.id, expiresAt: expect.any(String) },
    });
    const signedIn = await signIn(email, GOOD_PASSWORD).expect(200);
    expect(signedIn.body.user).toStrictEqual(created.body.user);
    expect(signedIn.body.session.id).not.toBe(created.body.session.id);
    for (const [res, sessionId] of [
      [created, created.body.session.id],
      [signedIn, signedIn.body.session.id],
    ] as const) {
      const current = await http().get('/auth/session').set('Cookie', sessionCookie(res)).expect(200);
      expect({ userId: current.body.user.id, sessionId: current.body.session.id }).toEqual({
        userId: created.body.user.id,
        sessionId,
      });
    }
  });

  it('stores an argon2id hash with m=19456, t=2, p=1 in the credential account, never the password', async () => {
    const email = freshEmail();
    const res = await signUp({ email, password: GOOD_PASSWORD }).expect(201);
    const userId = res.body.user.id as string;
    const account = await app.get(DataSource).getRepository(Account).findOneByOrFail({ userId });
    expect({ providerId: account.providerId, accountId: account.accountId }).toEqual({
      providerId: 'credential',
      accountId: userId,
    });
    expect(account.password).toMatch(/^\$argon2id\$v=19\$[mtp=\d,]+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/);
    expect(phcParameters(account.password!)).toEqual({ algorithm: 'argon2id', version: 19, m: 19456, t: 2, p: 1 });
    expect(account.password).not.toContain(GOOD_PASSWORD);
    expect(await argon2.verify(account.password!, GOOD_PASSWORD)).toBe(true);
  });

  it('answers a wrong password, an unknown email and an account without a password with the same 401', async () => {
    const email = freshEmail();
    await signUp({ email, password: GOOD_PASSWORD }).expect(201);
    const noPassword = freshEmail('oauth-only');
    await users().insert({ id: crypto.randomUUID(), email: noPassword, emailVerified: true, phoneVerified: false });

    const wrong = await signIn(email, OTHER_PASSWORD);
    const unknown = await signIn(freshEmail('nobody'), GOOD_PASSWORD);
    const withoutCredential = await signIn(noPassword, GOOD_PASSWORD);
    expectErrorBody(wrong, 401, 'INVALID_CREDENTIALS');
    for (const res of [unknown, withoutCredential]) {
      expect({ status: res.status, body: res.body, cookie: res.headers['set-cookie'] }).toStrictEqual({
        status: wrong.status,
        body: wrong.body,
        cookie: undefined,
      });
    }
  });

  it('runs a real argon2 verification against one dummy hash, created once, for unknown emails', async () => {
    const passwords = app.get(PasswordService);
    const verify = jest.spyOn(passwords, 'verify');
    const hash = jest.spyOn(passwords, 'hash');

    expectErrorBody(await signIn(freshEmail('ghost'), GOOD_PASSWORD), 401, 'INVALID_CREDENTIALS');
    expectErrorBody(await signIn(freshEmail('ghost'), OTHER_PASSWORD), 401, 'INVALID_CREDENTIALS');

    expect(verify).toHaveBeenCalledTimes(2);
    const [[firstHash, firstPassword], [secondHash]] = verify.mock.calls;
    expect(firstPassword).toBe(GOOD_PASSWORD);
    expect(phcParameters(firstHash)).toEqual({ algorithm: 'argon2id', version: 19, m: 19456, t: 2, p: 1 });
    expect(secondHash).toBe(firstHash);
    expect(await Promise.all(verify.mock.results.map((r) => r.value))).toEqual([false, false]);
    // At most the one dummy hash was computed (none if an earlier test already created it).
    expect(hash.mock.calls.length).toBeLessThanOrEqual(1);
  });

  it('upgrades a weaker stored hash (argon2id m=4096, t=1) at the next successful sign-in', async () => {
    const email = freshEmail();
    const res = await signUp({ email, password: GOOD_PASSWORD }).expect(201);
    const userId = res.body.user.id as string;
    const weak = await argon2.hash(GOOD_PASSWORD, {
      type: argon2.argon2id,
      memoryCost: 4096,
      timeCost: 1,
      parallelism: 1,
    });
    await app.get(DataSource).getRepository(Account).update({ userId }, { password: weak });

    expectErrorBody(await signIn(email, OTHER_PASSWORD), 401, 'INVALID_CREDENTIALS');
    expect(await storedHash(app, userId)).toBe(weak);

    await signIn(email, GOOD_PASSWORD).expect(200);
    const upgraded = (await storedHash(app, userId))!;
    expect(phcParameters(upgraded)).toEqual({ algorithm: 'argon2id', version: 19, m: 19456, t: 2, p: 1 });
    expect(await argon2.verify(upgraded, GOOD_PASSWORD)).toBe(true);
    await signIn(email, GOOD_PASSWORD).expect(200);
  });

  it('counts password length in code points after NFKC, at both boundaries', async () => {
    const cases: [string, string, number, string?][] = [
      ['7 composed letters', ACCENTED.slice(0, 7), 400, 'PASSWORD_TOO_SHORT'],
      ['8 composed letters', ACCENTED, 201],
      [
        '7 decomposed letters (14 code points before NFKC)',
        ACCENTED_DECOMPOSED.normalize('NFC').slice(0, 7).normalize('NFD'),
        400,
        'PASSWORD_TOO_SHORT',
      ],
      ['8 decomposed letters', ACCENTED_DECOMPOSED, 201],
      ['7 emoji', [...EMOJI].slice(0, 7).join(''), 400, 'PASSWORD_TOO_SHORT'],
      ['8 emoji (16 UTF-16 units)', EMOJI, 201],
      ['64 Arabic letters (128 bytes)', ARABIC_64, 201],
      ['65 Arabic letters', `${ARABIC_64}ب`, 400, 'PASSWORD_TOO_LONG'],
    ];
    expect([...ARABIC_64]).toHaveLength(64);
    for (const [label, password, status, code] of cases) {
      const res = await signUp({ email: freshEmail(), password });
      if (code) expectErrorBody(res, status, code);
      else expect({ label, status: res.status }).toEqual({ label, status });
    }
    // The decomposed and composed forms are the same password.
    const email = freshEmail();
    await signUp({ email, password: ACCENTED_DECOMPOSED }).expect(201);
    await signIn(email, ACCENTED).expect(200);
  });

  it('treats fullwidth and ASCII forms of a password as the same (NFKC)', async () => {
    const email = freshEmail();
    await signUp({ email, password: 'ｃｏｒｒｅｃｔ ｈｏｒｓｅ ｂａｔｔｅｒｙ ｓｔａｐｌｅ' }).expect(201);
    await signIn(email, GOOD_PASSWORD).expect(200);
  });

  it('refuses a password over the byte cap without hashing it', async () => {
    const passwords = app.get(PasswordService);
    const hash = jest.spyOn(passwords, 'hash');
    const verify = jest.spyOn(passwords, 'verify');
    const huge = 'x'.repeat(50_000);
    const before = await tableCounts(app);
    expectErrorBody(await signUp({ email: freshEmail(), password: huge }), 400, 'PASSWORD_TOO_LONG');
    expectErrorBody(await signIn(freshEmail(), huge), 400, 'INVALID_INPUT');
    // A 1 MB body stops at Express's body-size limit (100 kB) before routing; Fastify's limit is
    // 1 MiB, so there the password rules refuse it, before any hashing, just as fast.
    const started = Date.now();
    const oneMegabyte = await signUp({ email: freshEmail(), password: 'y'.repeat(1_000_000) });
    const code = platform === 'express' ? 'INVALID_INPUT' : 'PASSWORD_TOO_LONG';
    expect({
      status: [400, 413].includes(oneMegabyte.status),
      code: oneMegabyte.body.error?.code,
      fast: Date.now() - started < 1000,
    }).toEqual({ status: true, code, fast: true });
    expect({ hash: hash.mock.calls.length, verify: verify.mock.calls.length }).toEqual({ hash: 0, verify: 0 });
    expect(await tableCounts(app)).toEqual(before);
  });

  it.each([
    ['a password from the common list, in any case', 'FootBall', 'PASSWORD_TOO_COMMON'],
    ['a common password with digits appended', 'password123456789', 'PASSWORD_TOO_COMMON'],
    ['a common password wrapped in symbols', '!!sunshine2024!!', 'PASSWORD_TOO_COMMON'],
    ['one character repeated', 'aaaaaaaaaaaaaaaa', 'PASSWORD_TOO_PREDICTABLE'],
    ['a sequence', 'lmnopqrstuvw', 'PASSWORD_TOO_PREDICTABLE'],
    ['the app name with digits', 'Arraf2024!!', 'PASSWORD_TOO_PREDICTABLE'],
  ])('refuses %s with a reason', async (_label, password, code) => {
    const before = await tableCounts(app);
    const res = await signUp({ email: freshEmail(), password });
    expectErrorBody(res, 400, code);
    expect(res.body.error.en).toMatch(/common|guess/i);
    expect(await tableCounts(app)).toEqual(before);
  });

  it('refuses a password built on the email address', async () => {
    const res = await signUp({ email: 'mohammed.alharbi@example.com', password: 'mohammed.alharbi12345' });
    expectErrorBody(res, 400, 'PASSWORD_TOO_PREDICTABLE');
  });

  it('stores the email NFKC-normalised and lower-cased, and finds it in any case', async () => {
    const local = freshEmail('Mixed').split('@')[0];
    const res = await signUp({ email: ` ${local.toUpperCase()}@Example.COM `, password: GOOD_PASSWORD }).expect(201);
    expect(res.body.user.email).toBe(`${local.toLowerCase()}@example.com`);
    expect((await users().findOneByOrFail({ id: res.body.user.id })).email).toBe(`${local.toLowerCase()}@example.com`);
    await signIn(`${local}@EXAMPLE.com`, GOOD_PASSWORD).expect(200);
    await signIn(`${local.toLowerCase()}＠example.com`, GOOD_PASSWORD).expect(200);
    expectErrorBody(
      await signUp({ email: `${local.toLowerCase()}@example.com`, password: OTHER_PASSWORD }),
      409,
      'USER_ALREADY_EXISTS',
    );
  });

  it.each([
    ['a fullwidth @ that becomes a second @', 'a＠evil.com@x.com'],
    ['a comma-separated list', 'a@x.com,b@y.com'],
    ['a semicolon-separated list', 'a@x.com;b@y.com'],
    ['a quoted local part with an @', '"e@evil.com"@x.com'],
    ['a display name', 'Ali <ali@x.com>'],
    ['a space inside', 'ali baba@x.com'],
    ['no domain dot', 'ali@localhost'],
    ['an IP address domain', 'ali@127.0.0.1'],
    ['no @', 'ali.example.com'],
    ['255 characters long', `${'a'.repeat(64)}@${'b'.repeat(61)}.${'c'.repeat(61)}.${'d'.repeat(61)}.comm`],
  ])('refuses %s as an email, storing nothing', async (_label, email) => {
    const before = await tableCounts(app);
    expectErrorBody(await signUp({ email, password: GOOD_PASSWORD }), 400, 'INVALID_EMAIL');
    expectErrorBody(await signIn(email, GOOD_PASSWORD), 400, 'INVALID_EMAIL');
    expect(await tableCounts(app)).toEqual(before);
  });

  it('looks emails up exactly: josé@ and jose@ are different accounts', async () => {
    const suffix = freshEmail('x').split('@')[0];
    const accented = `josé.${suffix}@example.com`;
    const plain = `jose.${suffix}@example.com`;
    await signUp({ email: accented, password: GOOD_PASSWORD }).expect(201);
    expectErrorBody(await signIn(plain, GOOD_PASSWORD), 401, 'INVALID_CREDENTIALS');
    expectErrorBody(await signIn(accented.toUpperCase(), OTHER_PASSWORD), 401, 'INVALID_CREDENTIALS');
    await signIn(accented, GOOD_PASSWORD).expect(200);
  });

  it('answers 409 USER_ALREADY_EXISTS for a taken email or phone and stores nothing more', async () => {
    const email = freshEmail();
    await signUp({ email, password: GOOD_PASSWORD }).expect(201);
    // The number's owner signed in with a code earlier; a sign-up with the number and a code of its own gets 409.
    await app.get(DataSource).getRepository(User).insert({
      id: crypto.randomUUID(),
      phone: '+966551230001',
      phoneVerified: true,
      emailVerified: false,
    });
    const second = await codeFor('0551230001', '+966551230001');
    const before = await tableCounts(app);
    expectErrorBody(await signUp({ email, password: OTHER_PASSWORD }), 409, 'USER_ALREADY_EXISTS');
    expectErrorBody(
      await signUp({ email: freshEmail(), password: OTHER_PASSWORD, phone: '+966 55 123 0001', otp: second }),
      409,
      'USER_ALREADY_EXISTS',
    );
    expect(await tableCounts(app)).toEqual(before);
  });

  it('signs up with a phone alone (normalised, proven by its code, no password) and with phone + password', async () => {
    const otp = await codeFor('٠٥٥١٢٣٠٠٠٢', '+966551230002');
    const phoneOnly = await signUp({ phone: '٠٥٥١٢٣٠٠٠٢', otp, name: 'نورة' }).expect(201);
    expect(phoneOnly.body.user).toMatchObject({
      email: null,
      phone: '+966551230002',
      name: 'نورة',
      phoneVerified: true,
      emailVerified: false,
    });
    expect(await storedHash(app, phoneOnly.body.user.id)).toBeNull();
    const bothCode = await codeFor('0551230003', '+966551230003');
    const both = await signUp({ phone: '0551230003', otp: bothCode, password: GOOD_PASSWORD }).expect(201);
    expect(phcParameters((await storedHash(app, both.body.user.id))!).algorithm).toBe('argon2id');
    expectErrorBody(
      await signUp({ phone: '0112345678', otp: '123456', password: GOOD_PASSWORD }),
      400,
      'INVALID_PHONE',
    );
  });

  it('lets a phone into an account only through its code (issue 14): none, a wrong one and a spent one are refused', async () => {
    expectErrorBody(await signUp({ phone: '0551230005', name: 'x' }), 400, 'INVALID_INPUT');
    expect((await signUp({ phone: '0551230005' })).body.error.field).toBe('otp');
    const otp = await codeFor('0551230005', '+966551230005');
    const before = await tableCounts(app);
    const wrong = otp === '000000' ? '111111' : '000000';
    expectErrorBody(await signUp({ phone: '0551230005', otp: wrong }), 400, 'OTP_INVALID');
    expect(await tableCounts(app)).toEqual(before);
    const created = await signUp({ phone: '0551230005', otp }).expect(201);
    expectErrorBody(await signUp({ phone: '0551230005', otp }), 400, 'OTP_INVALID');
    // Stored as proven, so the phone sign-in that follows selects this account (a phone sign-in only
    // ever selects an account whose number is verified: otp.spec), never a second one for the number.
    const stored = await app.get(DataSource).getRepository(User).findOneByOrFail({ id: created.body.user.id });
    expect(stored).toMatchObject({ phone: '+966551230005', phoneVerified: true });
  });

  it('starts a phone sign-in with an SMS code: 200 { nextStep: "otp" }', async () => {
    sms.clear();
    const res = await http()
      .post('/auth/sign-in')
      .set('Accept-Language', 'en-GB,en;q=0.9,ar;q=0.5')
      .send({ method: 'phone', phone: '055 123 0004' })
      .expect(200);
    expect(res.body).toStrictEqual({ nextStep: 'otp', channel: 'sms' });
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(sms.messages).toEqual([
      {
        to: '+966551230004',
        code: expect.stringMatching(/^\d{6}$/),
        message: expect.stringContaining('code'),
        channel: 'sms',
        locale: 'en',
      },
    ]);
    // The code completes the sign-in at otp/verify.
    const verified = await http()
      .post('/auth/otp/verify')
      .send({ method: 'phone', phone: '0551230004', otp: sms.messages[0].code })
      .expect(200);
    expect(verified.body).toMatchObject({ isNewUser: true, user: { phone: '+966551230004', phoneVerified: true } });
    expectErrorBody(
      await http().post('/auth/sign-in').send({ method: 'phone', phone: 'not a number' }),
      400,
      'INVALID_PHONE',
    );
  });

  it('refuses a phone sign-in from an untrusted browser origin before any SMS is sent', async () => {
    sms.clear();
    const res = await http()
      .post('/auth/sign-in')
      .set('Origin', 'https://evil.example')
      .send({ method: 'phone', phone: '0551230006' });
    expectErrorBody(res, 403, 'INVALID_ORIGIN');
    expect(sms.messages).toHaveLength(0);
  });

  it('counts phone sign-ins and phone resets against the per-address SMS budget of otp/send', async () => {
    const { app: limited, sms: limitedSms } = await createPasswordTestApp({ database: database.options, platform });
    try {
      const server = limited.getHttpServer();
      const statuses: number[] = [];
      for (let i = 0; i < 30; i++) {
        const phone = `05513${String(i).padStart(5, '0')}`;
        statuses.push((await request(server).post('/auth/sign-in').send({ method: 'phone', phone })).status);
      }
      expect(new Set(statuses)).toEqual(new Set([200]));
      const signInOverLimit = await request(server)
        .post('/auth/sign-in')
        .send({ method: 'phone', phone: '0551399999' });
      expectErrorBody(signInOverLimit, 429, 'RATE_LIMITED');
      expect(Number(signInOverLimit.headers['retry-after'])).toBeGreaterThan(0);
      expectErrorBody(
        await request(server).post('/auth/forgot-password').send({ method: 'phone', phone: '0551399998' }),
        429,
        'RATE_LIMITED',
      );
      expect(limitedSms.messages).toHaveLength(30);
    } finally {
      await limited.close();
    }
  });

  it("checks passwords against its own application's database when another app runs in the same process", async () => {
    const email = freshEmail('own-app');
    await signUp({ email, password: GOOD_PASSWORD }).expect(201);
    // Started later, on an empty database: Passport's process-wide registry would now point at it.
    const otherDatabase = await db.create();
    const { app: other } = await createPasswordTestApp({ database: otherDatabase.options, platform });
    try {
      await signIn(email, GOOD_PASSWORD).expect(200);
      expectErrorBody(
        await request(other.getHttpServer())
          .post('/auth/sign-in')
          .send({ method: 'email', email, password: GOOD_PASSWORD }),
        401,
        'INVALID_CREDENTIALS',
      );
    } finally {
      await other.close();
      await otherDatabase.drop();
    }
  });

  it('signs up and signs in on Fastify too', async () => {
    const email = freshEmail('fastify');
    const server = fastify.getHttpServer();
    await request(server).post('/auth/sign-up').send({ email, password: GOOD_PASSWORD }).expect(201);
    const res = await request(server)
      .post('/auth/sign-in')
      .send({ method: 'email', email, password: GOOD_PASSWORD })
      .expect(200);
    await request(server).get('/auth/session').set('Cookie', sessionCookie(res)).expect(200);
    expectErrorBody(
      await request(server).post('/auth/sign-in').send({ method: 'email', email, password: OTHER_PASSWORD }),
      401,
      'INVALID_CREDENTIALS',
    );
  });

  const email = 'shape@example.com';
  it.each<[string, string, unknown]>([
    ['sign-up', 'an array', []],
    ['sign-up', 'no email and no phone', { password: GOOD_PASSWORD }],
    ['sign-up', 'an email without a password', { email }],
    ['sign-up', 'an unknown field', { email, password: GOOD_PASSWORD, role: 'admin' }],
    [
      'sign-up',
      'a __proto__ key',
      JSON.parse(`{"email":"${email}","password":"${GOOD_PASSWORD}","__proto__":{"x":1}}`),
    ],
    ['sign-up', 'a number email', { email: 5, password: GOOD_PASSWORD }],
    ['sign-up', 'an array password', { email, password: [GOOD_PASSWORD] }],
    ['sign-up', 'an empty password', { email, password: '' }],
    ['sign-up', 'a null email', { email: null, password: GOOD_PASSWORD }],
    ['sign-up', 'a number name', { email, password: GOOD_PASSWORD, name: 7 }],
    ['sign-up', 'a name with control characters', { email, password: GOOD_PASSWORD, name: 'a\u0000b' }],
    ['sign-up', 'a 256-character name', { email, password: GOOD_PASSWORD, name: 'n'.repeat(256) }],
    ['sign-in', 'no method', { email, password: GOOD_PASSWORD }],
    ['sign-in', 'an unknown method', { method: 'magic', email }],
    ['sign-in', 'an unknown field', { method: 'email', email, password: GOOD_PASSWORD, remember: true }],
    ['sign-in', 'a password on the phone branch', { method: 'phone', phone: '0551230005', password: GOOD_PASSWORD }],
    ['sign-in', 'an object password', { method: 'email', email, password: { $ne: '' } }],
    ['sign-in', 'a missing password', { method: 'email', email }],
  ])('POST /auth/%s with %s → 400 INVALID_INPUT, nothing stored', async (route, _label, body) => {
    const before = await tableCounts(app);
    const req = http().post(`/auth/${route}`).set('Content-Type', 'application/json');
    const res = await req.send(typeof body === 'string' ? body : JSON.stringify(body));
    expectErrorBody(res, 400, 'INVALID_INPUT');
    expect(await tableCounts(app)).toEqual(before);
  });

  it('refuses form-encoded and non-JSON bodies (no cross-site form sign-in)', async () => {
    const before = await tableCounts(app);
    const form = await http().post('/auth/sign-up').type('form').send({ email: freshEmail(), password: GOOD_PASSWORD });
    expectErrorBody(form, 400, 'INVALID_INPUT');
    const text = await http().post('/auth/sign-in').set('Content-Type', 'text/plain').send('method=email');
    expectErrorBody(text, 400, 'INVALID_INPUT');
    // Refused by the body parser before routing, still in the error shape.
    for (const raw of ['{"method":', 'null', '"a@b.co"']) {
      for (const route of ['sign-in', 'sign-up', 'forgot-password', 'reset-password', 'verify-email']) {
        expectErrorBody(
          await http().post(`/auth/${route}`).set('Content-Type', 'application/json').send(raw),
          400,
          'INVALID_INPUT',
        );
      }
    }
    expect(await tableCounts(app)).toEqual(before);
  });

  it('refuses an SQL injection attempt as an email without an SQL error', async () => {
    const res = await signIn("' OR 1=1--@x.com", GOOD_PASSWORD);
    expect([400, 401]).toContain(res.status);
    expect(res.body.error.code).toMatch(/^(INVALID_EMAIL|INVALID_CREDENTIALS)$/);
  });
});
