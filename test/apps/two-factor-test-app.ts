import { Controller, type DynamicModule, Get, type INestApplication, Module, Post, UseGuards } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Secret, TOTP, URI } from 'otpauth';
import type { DataSourceOptions } from 'typeorm';
import {
  ARRAF_AUTH_ENTITIES,
  ArrafAuthModule,
  type ArrafAuthOptions,
  CurrentUser,
  RequireTwoFactor,
  SessionGuard,
  SMS_PROVIDER,
} from '../../src/index.js';
import { InMemorySmsProvider } from '../../src/testing/index.js';
import { TEST_SECRET } from './test-app.js';

export const TWO_FACTOR_APP_URL = 'http://app.example.test';

/** An application's own routes: one behind the session guard, one behind step-up. */
@Controller('app')
@UseGuards(SessionGuard)
class VaultController {
  @Get('me')
  me(@CurrentUser('id') id: string) {
    return { id };
  }

  @Post('vault')
  @RequireTwoFactor()
  vault(@CurrentUser('id') id: string) {
    return { opened: id };
  }
}

/** A Nest app with the library's routes, an in-memory SMS provider and {@link VaultController}. */
export async function createTwoFactorTestApp(
  database: DataSourceOptions,
  auth: Partial<ArrafAuthOptions> = {},
  platform: 'express' | 'fastify' = 'express',
): Promise<{ app: INestApplication; sms: InMemorySmsProvider }> {
  const options: ArrafAuthOptions = {
    secret: TEST_SECRET,
    appUrl: TWO_FACTOR_APP_URL,
    session: { cookieOptions: { secure: false } },
    // The suites sign in far more often than a person; the limit itself is tested with its own value.
    rateLimit: { limits: { 'sign-in:ip': { limit: 10_000, window: 600 } } },
    ...auth,
  };
  @Module({
    imports: [
      TypeOrmModule.forRoot({ ...database, entities: ARRAF_AUTH_ENTITIES, synchronize: true } as DataSourceOptions),
      ArrafAuthModule.forRoot(options) as DynamicModule,
    ],
    controllers: [VaultController],
  })
  class AppModule {}
  const sms = new InMemorySmsProvider();
  const moduleRef = await Test.createTestingModule({ imports: [AppModule] })
    .overrideProvider(SMS_PROVIDER)
    .useValue(sms)
    .compile();
  if (platform === 'fastify') {
    const app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false });
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    return { app, sms };
  }
  const app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  return { app, sms };
}

/** The authenticator app of a test: codes computed from the enrolment URI's secret. */
export class Authenticator {
  readonly totp: TOTP;

  constructor(uri: string) {
    this.totp = URI.parse(uri) as TOTP;
  }

  get secret(): Secret {
    return this.totp.secret;
  }

  /**
   * The code `steps` periods from now. A past step is only accepted while it is inside the ±1 window,
   * so for `steps < 0` this first waits until the current period has at least 5 s left.
   */
  async code(steps = 0): Promise<string> {
    if (steps < 0) {
      const left = 30_000 - (Date.now() % 30_000);
      if (left < 5_000) await new Promise((resolve) => setTimeout(resolve, left + 50));
    }
    return this.totp.generate({ timestamp: Date.now() + steps * 30_000 });
  }
}

/** `name=value` of the cookie `name` a response sets (not a clearing one), or `undefined`. */
export function cookieFrom(res: { headers: Record<string, unknown> }, name: string): string | undefined {
  return setCookies(res)
    .find((c) => c.startsWith(`${name}=`) && !c.startsWith(`${name}=;`))
    ?.split(';')[0];
}

/** Every `Set-Cookie` line of a response. */
export function setCookies(res: { headers: Record<string, unknown> }): string[] {
  const header = res.headers['set-cookie'] as string[] | string | undefined;
  return header === undefined ? [] : Array.isArray(header) ? header : [header];
}
