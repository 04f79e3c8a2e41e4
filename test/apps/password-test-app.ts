import { type DynamicModule, type INestApplication, Module } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test, type TestingModuleBuilder } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { expect } from '@jest/globals';
import { DataSource, type DataSourceOptions } from 'typeorm';
import {
  Account,
  ARRAF_AUTH_ENTITIES,
  ArrafAuthModule,
  type ArrafAuthOptions,
  Session,
  SMS_PROVIDER,
  User,
  Verification,
} from '../../src/index.js';
import { InMemorySmsProvider } from '../../src/testing/index.js';
import { TEST_SECRET } from './test-app.js';

export interface PasswordTestAppOptions {
  database: DataSourceOptions;
  auth?: Partial<ArrafAuthOptions>;
  platform?: 'express' | 'fastify';
  configure?: (builder: TestingModuleBuilder) => TestingModuleBuilder;
}

export interface PasswordTestApp {
  app: INestApplication;
  sms: InMemorySmsProvider;
}

/** A Nest app with the library's routes, its own database, and an in-memory SMS provider. */
export async function createPasswordTestApp(options: PasswordTestAppOptions): Promise<PasswordTestApp> {
  const auth: ArrafAuthOptions = {
    secret: TEST_SECRET,
    session: { cookieOptions: { secure: false } },
    ...options.auth,
  };
  @Module({
    imports: [
      TypeOrmModule.forRoot({
        ...options.database,
        entities: ARRAF_AUTH_ENTITIES,
        synchronize: true,
      } as DataSourceOptions),
      ArrafAuthModule.forRoot(auth) as DynamicModule,
    ],
  })
  class AppModule {}

  const sms = new InMemorySmsProvider();
  let builder = Test.createTestingModule({ imports: [AppModule] })
    .overrideProvider(SMS_PROVIDER)
    .useValue(sms);
  if (options.configure) builder = options.configure(builder);
  const moduleRef = await builder.compile();
  let app: INestApplication;
  if (options.platform === 'fastify') {
    app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false });
    await app.init();
    await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
  } else {
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
  }
  return { app, sms };
}

/**
 * Asserts the SPEC's error body exactly: `{ error: { code, en, ar } }` with an Arabic text, plus,
 * on `INVALID_INPUT` only, the `field` at fault (named in both texts) where one is known.
 */
export function expectErrorBody(res: { status: number; body: unknown }, status: number, code: string): void {
  const field = (res.body as { error?: { field?: unknown } } | null)?.error?.field;
  const named = code === 'INVALID_INPUT' && typeof field === 'string' ? { field } : {};
  expect({ status: res.status, body: res.body }).toStrictEqual({
    status,
    body: { error: { code, en: expect.any(String), ar: expect.stringMatching(/[\u0600-\u06FF]/), ...named } },
  });
  if (typeof field === 'string') {
    const { en, ar } = (res.body as { error: { en: string; ar: string } }).error;
    expect([en.includes(field), ar.includes(field)]).toEqual([true, true]);
  }
}

/** The `name=value` of the session cookie a response sets. */
export function sessionCookie(res: { headers: Record<string, unknown> }): string {
  const header = res.headers['set-cookie'] as string[] | string | undefined;
  const cookies = header === undefined ? [] : Array.isArray(header) ? header : [header];
  const cookie = cookies.find((c) => c.startsWith('auth_session=') && !c.startsWith('auth_session=;'));
  if (!cookie) throw new Error(`no session cookie in ${JSON.stringify(cookies)}`);
  return cookie.split(';')[0];
}

/** How many rows each library table holds: compared before and after a refused request. */
export async function tableCounts(app: INestApplication): Promise<Record<string, number>> {
  const dataSource = app.get(DataSource);
  return {
    users: await dataSource.getRepository(User).count(),
    accounts: await dataSource.getRepository(Account).count(),
    sessions: await dataSource.getRepository(Session).count(),
    verifications: await dataSource.getRepository(Verification).count(),
  };
}

/** The stored argon2 PHC string of a user's credential account. */
export async function storedHash(app: INestApplication, userId: string): Promise<string | null> {
  const account = await app
    .get(DataSource)
    .getRepository(Account)
    .findOneBy({ userId, providerId: 'credential', accountId: userId });
  return account?.password ?? null;
}

/** `{ m, t, p }` of an argon2 PHC string, whatever the parameter order. */
export function phcParameters(hash: string): { algorithm: string; version: number; m: number; t: number; p: number } {
  const [, algorithm, version, params] = hash.split('$');
  const values = Object.fromEntries(params.split(',').map((kv) => kv.split('=')));
  return {
    algorithm,
    version: Number(version.slice(2)),
    m: Number(values.m),
    t: Number(values.t),
    p: Number(values.p),
  };
}

let counter = 0;
/** A unique email address for one test. */
export function freshEmail(prefix = 'user'): string {
  counter += 1;
  return `${prefix}-${process.pid}-${counter}-${Date.now().toString(36)}@example.com`;
}

/** Strong enough for every rule: long, not common, not built on the address. */
export const GOOD_PASSWORD = 'correct horse battery staple';
export const OTHER_PASSWORD = 'Tr0ub4dor & 3 purple elephants';
