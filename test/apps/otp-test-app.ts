import { Controller, type INestApplication, Module, Post, type Provider, Req, UseGuards } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { DataSourceOptions } from 'typeorm';
import {
  ARRAF_AUTH_ENTITIES,
  ArrafAuthExceptionFilter,
  ArrafAuthModule,
  type ArrafAuthOptions,
  SMS_PROVIDER,
  type User,
} from '../../src/index.js';
import { OtpAuthGuard, OtpStrategy } from '../../src/otp/otp.strategy.js';
import { InMemorySmsProvider } from '../../src/testing/index.js';
import { TEST_SECRET } from './test-app.js';

/** An application route guarded by the exported OtpAuthGuard, the way an application would use it. */
@Controller('app')
export class AppPhoneLoginController {
  @Post('phone-login')
  @UseGuards(OtpAuthGuard)
  login(@Req() request: { user: User }) {
    return { userId: request.user.id, phone: request.user.phone };
  }
}

export interface OtpTestAppOptions {
  database: DataSourceOptions;
  auth?: Partial<ArrafAuthOptions>;
  platform?: 'express' | 'fastify';
  /**
   * How the SMS provider is plugged in: `'override'` (default) with
   * `overrideProvider(SMS_PROVIDER)`, `'option'` with the `sms` option.
   */
  smsVia?: 'override' | 'option';
  /** Register ArrafAuthExceptionFilter with `useGlobalFilters`, as an application may. */
  globalFilter?: boolean;
  /** The application's `setGlobalPrefix(...)`, e.g. `'api'`. */
  globalPrefix?: string;
}

export interface OtpTestApp {
  app: INestApplication;
  sms: InMemorySmsProvider;
}

/** Whether ArrafAuthModule registers OtpStrategy itself (then the app must not add a second one). */
function moduleRegistersOtpStrategy(definition: { providers?: Provider[] }): boolean {
  const declared: Provider[] = [
    ...((Reflect.getMetadata('providers', ArrafAuthModule) as Provider[]) ?? []),
    ...(definition.providers ?? []),
  ];
  return declared.some(
    (p) => p === OtpStrategy || (typeof p === 'object' && 'provide' in p && p.provide === OtpStrategy),
  );
}

/**
 * Starts an app with the auth module, an in-memory SMS provider and `trust proxy` on, so tests can
 * give each scenario its own client address with `X-Forwarded-For`.
 */
export async function createOtpTestApp(options: OtpTestAppOptions): Promise<OtpTestApp> {
  const sms = new InMemorySmsProvider();
  const smsVia = options.smsVia ?? 'override';
  const auth: ArrafAuthOptions = {
    secret: TEST_SECRET,
    ...(smsVia === 'option' ? { sms } : {}),
    ...options.auth,
  };
  const authModule = ArrafAuthModule.forRoot(auth);

  @Module({
    imports: [
      TypeOrmModule.forRoot({
        ...options.database,
        entities: ARRAF_AUTH_ENTITIES,
        synchronize: true,
      } as DataSourceOptions),
      authModule,
    ],
    controllers: [AppPhoneLoginController],
    // Until ArrafAuthModule lists OtpStrategy among its providers, the application provides it.
    providers: moduleRegistersOtpStrategy(authModule) ? [] : [OtpStrategy],
  })
  class OtpAppModule {}

  let builder = Test.createTestingModule({ imports: [OtpAppModule] });
  if (smsVia === 'override') builder = builder.overrideProvider(SMS_PROVIDER).useValue(sms);
  const moduleRef = await builder.compile();
  let app: INestApplication;
  if (options.platform === 'fastify') {
    app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter({ trustProxy: true }));
    if (options.globalPrefix) app.setGlobalPrefix(options.globalPrefix);
    if (options.globalFilter) app.useGlobalFilters(new ArrafAuthExceptionFilter(app.get(HttpAdapterHost)));
    await app.init();
    await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
  } else {
    app = moduleRef.createNestApplication();
    (app as unknown as { set(k: string, v: unknown): void }).set('trust proxy', true);
    if (options.globalPrefix) app.setGlobalPrefix(options.globalPrefix);
    if (options.globalFilter) app.useGlobalFilters(new ArrafAuthExceptionFilter(app.get(HttpAdapterHost)));
    await app.init();
  }
  return { app, sms };
}
