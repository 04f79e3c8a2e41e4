import { Controller, type DynamicModule, Get, type INestApplication, Module, Post, UseGuards } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test, type TestingModuleBuilder } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { DataSourceOptions } from 'typeorm';
import {
  ARRAF_AUTH_ENTITIES,
  ArrafAuthModule,
  type ArrafAuthOptions,
  CurrentSession,
  CurrentUser,
  Public,
  RequireFreshSession,
  type Session,
  SessionGuard,
  type User,
} from '../../src/index.js';

export const TEST_SECRET = 'test-secret-0123456789abcdefghijklmnopqrstuvwxyz';

/** A protected application controller, written the way an application would. */
@Controller('me')
@UseGuards(SessionGuard)
export class ProfileController {
  @Get()
  me(@CurrentUser() user: User, @CurrentUser('id') id: string, @CurrentSession() session: Session) {
    return { id, email: user.email, sessionId: session.id, userClass: user.constructor.name };
  }

  @Post('update')
  update(@CurrentUser('id') id: string) {
    return { updated: id };
  }

  @Post('sensitive')
  @RequireFreshSession()
  sensitive() {
    return { ok: true };
  }
}

/** Routes for an app that registers SessionGuard as APP_GUARD. */
@Controller('global')
export class GlobalController {
  @Get('private')
  private(@CurrentUser('id') id: string) {
    return { id };
  }

  @Public()
  @Get('public')
  public() {
    return { public: true };
  }
}

export type Platform = 'express' | 'fastify';

export interface TestAppOptions {
  database: DataSourceOptions;
  auth?: Partial<ArrafAuthOptions>;
  platform?: Platform;
  /** Register SessionGuard as APP_GUARD and mount GlobalController. */
  globalGuard?: boolean;
  /** Query logging hook: called with every SQL statement the DataSource runs. */
  onQuery?: (sql: string) => void;
  /** Adjust the testing module (overrideProvider, overrideGuard, ...). */
  configure?: (builder: TestingModuleBuilder) => TestingModuleBuilder;
  /** Use forRootAsync with useFactory instead of forRoot. */
  async?: boolean;
  /** Express `trust proxy` / Fastify `trustProxy`. */
  trustProxy?: boolean;
}

/** Set by the cache-parity suite (session-cache-parity.spec.ts): every app built here runs with `session.cache` on. */
export const testAppDefaults = { sessionCache: false };

/** Builds and starts a Nest app that uses the module the way an application does. */
export async function createTestApp(options: TestAppOptions): Promise<INestApplication> {
  const auth: ArrafAuthOptions = { secret: TEST_SECRET, ...options.auth };
  if (testAppDefaults.sessionCache) auth.session = { cache: true, ...auth.session };
  const authModule: DynamicModule = options.async
    ? ArrafAuthModule.forRootAsync({ useFactory: async () => auth, routes: auth.routes })
    : ArrafAuthModule.forRoot(auth);
  const onQuery = options.onQuery;

  @Module({
    imports: [
      TypeOrmModule.forRoot({
        ...options.database,
        entities: ARRAF_AUTH_ENTITIES,
        synchronize: true,
        ...(onQuery
          ? {
              logging: ['query'],
              logger: {
                logQuery: (sql: string) => onQuery(sql),
                logQueryError: () => undefined,
                logQuerySlow: () => undefined,
                logSchemaBuild: () => undefined,
                logMigration: () => undefined,
                log: () => undefined,
              },
            }
          : {}),
      } as DataSourceOptions),
      authModule,
    ],
    controllers: options.globalGuard ? [ProfileController, GlobalController] : [ProfileController],
    providers: options.globalGuard ? [{ provide: APP_GUARD, useClass: SessionGuard }] : [],
  })
  class AppModule {}

  let builder = Test.createTestingModule({ imports: [AppModule] });
  if (options.configure) builder = options.configure(builder);
  const moduleRef = await builder.compile();
  let app: INestApplication;
  if (options.platform === 'fastify') {
    app = moduleRef.createNestApplication<NestFastifyApplication>(
      new FastifyAdapter({ trustProxy: options.trustProxy ?? false }),
    );
    await app.init();
    await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
  } else {
    app = moduleRef.createNestApplication();
    if (options.trustProxy) (app as unknown as { set(k: string, v: unknown): void }).set('trust proxy', true);
    await app.init();
  }
  return app;
}
