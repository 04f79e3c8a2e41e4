import { type INestApplication, Module } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test, type TestingModuleBuilder } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { randomInt } from 'node:crypto';
import request from 'supertest';
import type { DataSourceOptions } from 'typeorm';
import {
  ARRAF_AUTH_ENTITIES,
  ArrafAuthModule,
  type ArrafAuthOptions,
  SMS_PROVIDER,
  type VerificationDelivery,
} from '../../src/index.js';
import { InMemorySmsProvider } from '../../src/testing/index.js';
import { type Platform, ProfileController, TEST_SECRET } from './test-app.js';

/** The origin the security apps trust (`appUrl`). */
export const APP_ORIGIN = 'https://app.example';

export interface SecurityTestAppOptions {
  database: DataSourceOptions;
  auth?: Partial<ArrafAuthOptions>;
  platform?: Platform;
  /** Extra DataSource settings (timeouts, pool) merged over `database`. */
  dataSource?: Record<string, unknown>;
  configure?: (builder: TestingModuleBuilder) => TestingModuleBuilder;
}

export interface SecurityTestApp {
  app: INestApplication;
  sms: InMemorySmsProvider;
  /** Every email the library asked the application to deliver (reset and verification codes and links). */
  mail: { kind: 'reset-password' | 'verify-email'; delivery: VerificationDelivery }[];
  http(): ReturnType<typeof request>;
}

/**
 * An application with the library's routes, the guarded `/me` routes, an in-memory SMS provider,
 * email delivery callbacks that record what they are given, `appUrl` https://app.example, a
 * non-secure cookie (plain-HTTP tests) and `trust proxy` on, so each scenario can be its own client
 * address through `X-Forwarded-For`.
 */
export async function createSecurityTestApp(options: SecurityTestAppOptions): Promise<SecurityTestApp> {
  const mail: SecurityTestApp['mail'] = [];
  const auth: ArrafAuthOptions = {
    secret: TEST_SECRET,
    appUrl: APP_ORIGIN,
    session: { cookieOptions: { secure: false } },
    callbacks: {
      onForgotPassword: (delivery) => void mail.push({ kind: 'reset-password', delivery }),
      onVerifyEmail: (delivery) => void mail.push({ kind: 'verify-email', delivery }),
    },
    ...options.auth,
  };

  @Module({
    imports: [
      TypeOrmModule.forRoot({
        ...options.database,
        entities: ARRAF_AUTH_ENTITIES,
        synchronize: true,
        ...options.dataSource,
      } as DataSourceOptions),
      ArrafAuthModule.forRoot(auth),
    ],
    controllers: [ProfileController],
  })
  class SecurityAppModule {}

  const sms = new InMemorySmsProvider();
  let builder = Test.createTestingModule({ imports: [SecurityAppModule] })
    .overrideProvider(SMS_PROVIDER)
    .useValue(sms);
  if (options.configure) builder = options.configure(builder);
  const moduleRef = await builder.compile();
  let app: INestApplication;
  if (options.platform === 'fastify') {
    app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter({ trustProxy: true }), {
      logger: false,
    });
    await app.init();
    await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
  } else {
    app = moduleRef.createNestApplication({ logger: false });
    (app as unknown as { set(k: string, v: unknown): void }).set('trust proxy', true);
    await app.init();
  }
  return { app, sms, mail, http: () => request(app.getHttpServer()) };
}

const runTag = `${process.pid.toString(36)}${Date.now().toString(36)}`;
let counter = 0;

/**
 * A unique email for one scenario. Unique across runs too: Redis windows outlive a test run, so a
 * re-run within the hour must not find its own old counters.
 */
export function uniqueEmail(prefix = 'u'): string {
  counter += 1;
  return `${prefix}-${runTag}-${counter}@example.com`;
}

/** A random Saudi mobile: as typed and E.164. */
export function uniquePhone(): { local: string; e164: string } {
  const rest = String(randomInt(0, 10_000_000)).padStart(7, '0');
  return { local: `056${rest}`, e164: `+96656${rest}` };
}

/** A random IPv4 client address in 10.0.0.0/8. */
export function randomIpv4(): string {
  return `10.${randomInt(0, 256)}.${randomInt(0, 256)}.${randomInt(1, 255)}`;
}

/** A random /64 prefix in 2001:db8::/32 (documentation range), e.g. `2001:db8:1a2b:3c4d`. */
export function randomIpv6Prefix(): string {
  const group = () => randomInt(0, 0x10000).toString(16);
  return `2001:db8:${group()}:${group()}`;
}

/** Runs `tasks` at most `width` at a time and returns their results in order. */
export async function inBatches<T>(tasks: (() => Promise<T>)[], width: number): Promise<T[]> {
  const results: T[] = [];
  for (let i = 0; i < tasks.length; i += width) {
    results.push(...(await Promise.all(tasks.slice(i, i + width).map((task) => task()))));
  }
  return results;
}

/** Status → how many responses had it. */
export function countStatuses(responses: { status: number }[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const { status } of responses) counts[status] = (counts[status] ?? 0) + 1;
  return counts;
}
