import { createHash, generateKeyPairSync, randomBytes, randomUUID, sign } from 'node:crypto';
import { Controller, type DynamicModule, Get, type INestApplication, Module, Post, UseGuards } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Secret, TOTP, URI } from 'otpauth';
import request from 'supertest';
import { DataSource, type DataSourceOptions } from 'typeorm';
import {
  ARRAF_AUTH_ENTITIES,
  ArrafAuthModule,
  type ArrafAuthOptions,
  CurrentUser,
  Passkey,
  RequireTwoFactor,
  SessionGuard,
  SMS_PROVIDER,
} from '../../src/index.js';
import { InMemorySmsProvider } from '../../src/testing/index.js';
import { TEST_SECRET } from './test-app.js';

export const TWO_FACTOR_APP_URL = 'http://app.example.test';
/** The pending-sign-in cookie's name (without the `__Host-` prefix). */
export const PENDING_COOKIE = 'arraf_2fa_pending';

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

/**
 * Turns the authenticator app on for the session `cookie` (enable, then confirm with the previous
 * period's code, so the current one is still unused): the authenticator and the backup codes.
 */
export async function enrolAuthenticator(
  app: INestApplication,
  cookie: string,
): Promise<{ authenticator: Authenticator; backupCodes: string[] }> {
  const post = (path: string) =>
    request(app.getHttpServer()).post(path).set('Origin', TWO_FACTOR_APP_URL).set('Cookie', cookie);
  const enabled = await post('/auth/two-factor/enable').expect(200);
  const authenticator = new Authenticator(enabled.body.totpUri);
  await post('/auth/two-factor/confirm')
    .send({ code: await authenticator.code(-1) })
    .expect(200);
  return { authenticator, backupCodes: enabled.body.backupCodes };
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

/**
 * A software passkey (ES256 on P-256) for the API suites: stored as a verified registration stores
 * one, it answers `POST passkey/authenticate/options` the way `startAuthentication()` does, with its
 * signature counter moving forward and user presence and verification flagged.
 */
export class SoftPasskey {
  readonly credentialId = randomBytes(16).toString('base64url');
  private readonly keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  private counter = 0;

  constructor(
    readonly userId: string,
    readonly origin = TWO_FACTOR_APP_URL,
  ) {}

  /** Stores the passkey for its user (the row `POST passkey/register/verify` writes). */
  async store(app: INestApplication): Promise<void> {
    const jwk = this.keys.publicKey.export({ format: 'jwk' });
    // COSE_Key {1: 2 (EC2), 3: -7 (ES256), -1: 1 (P-256), -2: x, -3: y} in CBOR.
    const coseKey = Buffer.concat([
      Buffer.from([0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21, 0x58, 0x20]),
      Buffer.from(jwk.x!, 'base64url'),
      Buffer.from([0x22, 0x58, 0x20]),
      Buffer.from(jwk.y!, 'base64url'),
    ]);
    await app
      .get(DataSource)
      .getRepository(Passkey)
      .insert({
        id: randomUUID(),
        userId: this.userId,
        credentialId: this.credentialId,
        publicKey: coseKey.toString('base64url'),
        counter: 0,
        transports: 'internal',
        name: 'Soft passkey',
        deviceType: 'singleDevice',
        backedUp: false,
        lastUsedAt: null,
      });
  }

  /** The assertion JSON for `options` (`{ challenge, rpId }`); `userVerified: false` leaves the UV flag off. */
  assertion(options: { challenge: string; rpId: string }, { userVerified = true } = {}) {
    this.counter += 1;
    const clientData = { type: 'webauthn.get', challenge: options.challenge, origin: this.origin, crossOrigin: false };
    const clientDataJSON = Buffer.from(JSON.stringify(clientData));
    const counter = Buffer.alloc(4);
    counter.writeUInt32BE(this.counter);
    const authenticatorData = Buffer.concat([
      createHash('sha256').update(options.rpId).digest(),
      // Flags: user present (0x01), user verified (0x04).
      Buffer.from([userVerified ? 0x05 : 0x01]),
      counter,
    ]);
    const signed = Buffer.concat([authenticatorData, createHash('sha256').update(clientDataJSON).digest()]);
    return {
      id: this.credentialId,
      rawId: this.credentialId,
      type: 'public-key',
      response: {
        clientDataJSON: clientDataJSON.toString('base64url'),
        authenticatorData: authenticatorData.toString('base64url'),
        signature: sign('sha256', signed, this.keys.privateKey).toString('base64url'),
        userHandle: Buffer.from(this.userId).toString('base64url'),
      },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    };
  }
}
