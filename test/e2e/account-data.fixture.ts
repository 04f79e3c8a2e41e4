import { expect } from '@jest/globals';
import type { TestingModuleBuilder } from '@nestjs/testing';
import { randomBytes } from 'node:crypto';
import { DataSource, Like } from 'typeorm';
import {
  Account,
  type ArrafAuthOptions,
  Passkey,
  SecurityEvent,
  SecurityEventsService,
  Session,
  TwoFactor,
  TwoFactorProof,
  User,
  Verification,
} from '../../src/index.js';
import { SignInMethodMarks } from '../../src/accounts/sign-in-method-marks.entity.js';
import { GOOD_PASSWORD, sessionCookie } from '../apps/password-test-app.js';
import {
  APP_ORIGIN,
  createSecurityTestApp,
  randomIpv4,
  type SecurityTestApp,
  uniqueEmail,
  uniquePhone,
} from '../apps/security-test-app.js';
import { Authenticator } from '../apps/two-factor-test-app.js';

/**
 * Shared by the account export, deletion and retention suites: an application with bearer
 * sessions and the session cache on, and an account that has a row in every table the module keeps.
 */
export async function createAccountDataApp(
  database: import('typeorm').DataSourceOptions,
  options: {
    auth?: Partial<ArrafAuthOptions>;
    configure?: (builder: TestingModuleBuilder) => TestingModuleBuilder;
  } = {},
): Promise<SecurityTestApp> {
  return createSecurityTestApp({
    database,
    configure: options.configure,
    auth: {
      session: { bearer: true, cache: true, cookieOptions: { secure: false } },
      rateLimit: {
        limits: {
          'sign-in:ip': { limit: 10_000, window: 600 },
          'sign-up:ip': { limit: 10_000, window: 600 },
          'otp-send:ip': { limit: 10_000, window: 600 },
          'otp-verify:ip': { limit: 10_000, window: 600 },
        },
      },
      ...options.auth,
    },
  });
}

/** A signed-in account with a row in every table, and every secret the test saw or planted. */
export interface RichAccount {
  id: string;
  email: string;
  phone: string;
  cookie: string;
  bearer: string;
  /** Every secret value: the password, credentials, codes, and hashes and tokens read from the database. */
  secrets: string[];
}

const origin = { Origin: APP_ORIGIN };

/**
 * Signs up with email and password, signs in again as a bearer client, gets a verified phone, an
 * authenticator app with backup codes, an OAuth identity with tokens, a passkey, a reset code, a
 * phone code and security events.
 */
export async function richAccount(t: SecurityTestApp): Promise<RichAccount> {
  const email = uniqueEmail('data');
  const phone = uniquePhone().e164;
  const http = () => t.http();
  const signUp = await http()
    .post('/auth/sign-up')
    .set('X-Forwarded-For', randomIpv4())
    .send({ email, password: GOOD_PASSWORD });
  expect(signUp.status).toBe(201);
  const id = signUp.body.user.id as string;
  const cookie = sessionCookie(signUp);
  const bearerSignIn = await http()
    .post('/auth/sign-in')
    .set('X-Forwarded-For', randomIpv4())
    .set('User-Agent', 'BearerClient/1.0')
    .send({ method: 'email', email, password: GOOD_PASSWORD });
  expect(bearerSignIn.status).toBe(200);
  const bearer = bearerSignIn.body.session.token as string;
  const dataSource = t.app.get(DataSource);
  await dataSource.getRepository(User).update({ id }, { phone, phoneVerified: true });
  const marks = dataSource.getRepository(SignInMethodMarks);
  if (!(await marks.existsBy({ userId: id })))
    await marks.insert({
      userId: id,
      phoneAddedAt: new Date(),
      emailProvenAt: null,
      reviewFrom: null,
      reviewUntil: null,
    });

  const enrol = await http().post('/auth/two-factor/enable').set(origin).set('Cookie', cookie).send({});
  expect(enrol.status).toBe(200);
  const authenticator = new Authenticator(enrol.body.totpUri);
  const confirm = await http()
    .post('/auth/two-factor/confirm')
    .set(origin)
    .set('Cookie', cookie)
    .send({ code: await authenticator.code() });
  expect(confirm.status).toBe(200);

  const oauthTokens = ['at', 'rt', 'it'].map((kind) => `${kind}-${randomBytes(16).toString('hex')}`);
  await dataSource.getRepository(Account).insert({
    id: crypto.randomUUID(),
    userId: id,
    providerId: 'oidc',
    accountId: `sub-${randomBytes(6).toString('hex')}`,
    password: null,
    accessToken: oauthTokens[0],
    refreshToken: oauthTokens[1],
    idToken: oauthTokens[2],
    accessTokenExpiresAt: null,
    scope: 'openid email',
  });
  await dataSource.getRepository(Passkey).insert({
    id: crypto.randomUUID(),
    userId: id,
    credentialId: randomBytes(16).toString('base64url'),
    publicKey: randomBytes(64).toString('base64url'),
    counter: 3,
    transports: 'internal',
    name: 'Work laptop',
    deviceType: 'singleDevice',
    backedUp: false,
    lastUsedAt: null,
  });
  const forgot = await http()
    .post('/auth/forgot-password')
    .set('X-Forwarded-For', randomIpv4())
    .send({ method: 'email', email });
  expect(forgot.status).toBe(200);
  const resetCode = t.mail.at(-1)?.delivery.code;
  expect(t.mail.at(-1)?.delivery.identifier).toBe(email);
  await http().post('/auth/otp/send').set('X-Forwarded-For', randomIpv4()).send({ method: 'phone', phone }).expect(200);
  const smsCode = t.sms.lastCodeFor(phone)!;
  await t.app.get(SecurityEventsService).record({
    type: 'sign_in.succeeded',
    userId: id,
    method: 'password',
    ip: '203.0.113.9',
    userAgent: 'BearerClient/1.0',
  });

  const stored = await storedSecrets(dataSource, id, phone);
  const secrets = [
    GOOD_PASSWORD,
    cookie.split('=')[1],
    bearer,
    authenticator.secret.base32,
    ...enrol.body.backupCodes,
    resetCode!,
    smsCode,
    ...oauthTokens,
    ...stored,
  ];
  return { id, email, phone, cookie, bearer, secrets: secrets.filter((s) => typeof s === 'string' && s.length >= 6) };
}

/** The hashes, encrypted secrets and tokens the database holds for the user. */
async function storedSecrets(dataSource: DataSource, userId: string, phone: string): Promise<string[]> {
  const sessions = await dataSource.getRepository(Session).find({ where: { userId } });
  const accounts = await dataSource.getRepository(Account).find({ where: { userId } });
  const twoFactor = await dataSource.getRepository(TwoFactor).findOneByOrFail({ userId });
  const verifications = await dataSource
    .getRepository(Verification)
    .find({ where: [{ identifier: Like(`${userId}:%`) }, { identifier: phone }] });
  expect(verifications.length).toBeGreaterThanOrEqual(12); // ten backup codes, a reset code, a phone code
  expect(sessions.length).toBe(2);
  return [
    ...sessions.map((s) => s.tokenHash),
    ...accounts.flatMap((a) => [a.password, a.accessToken, a.refreshToken, a.idToken]).filter((v): v is string => !!v),
    twoFactor.secret,
    ...verifications.map((v) => v.valueHash),
  ];
}

/** How many rows of each module table reference the user by id, phone or email. */
export async function rowsReferencing(
  dataSource: DataSource,
  user: { id: string; phone: string; email: string },
  sessionIds: string[],
): Promise<Record<string, number>> {
  const { id: userId, phone, email } = user;
  return {
    users: await dataSource.getRepository(User).countBy([{ id: userId }, { phone }, { email }]),
    sessions: await dataSource.getRepository(Session).countBy({ userId }),
    accounts: await dataSource.getRepository(Account).countBy([{ userId }, { accountId: userId }]),
    verifications: await dataSource
      .getRepository(Verification)
      .countBy([{ identifier: Like(`%${userId}%`) }, { identifier: phone }, { identifier: email }]),
    twoFactors: await dataSource.getRepository(TwoFactor).countBy({ userId }),
    twoFactorProofs:
      sessionIds.length === 0
        ? 0
        : await dataSource.getRepository(TwoFactorProof).countBy(sessionIds.map((sessionId) => ({ sessionId }))),
    passkeys: await dataSource.getRepository(Passkey).countBy({ userId }),
    securityEvents: await dataSource.getRepository(SecurityEvent).countBy({ userId }),
    signInMethodMarks: await dataSource.getRepository(SignInMethodMarks).countBy({ userId }),
  };
}
