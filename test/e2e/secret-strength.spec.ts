import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ARRAF_AUTH_ENTITIES, ArrafAuthModule, ConsoleSmsProvider } from '../../src/index.js';
import { ArrafAuthConfigError } from '../../src/options/arraf-auth-options.resolver.js';
import { estimateSecretBits, MIN_SECRET_BITS } from '../../src/options/secret-strength.js';

/** Secrets that pass the length and distinct-character checks but are guessable. */
const WEAK = [
  'test-secret-0123456789abcdefghijklmnopqrstuvwxyz',
  'abcdefghijabcdefghijabcdefghijab',
  'change-me-change-me-change-me-123',
  'correct horse battery staple and more words',
  'my super secret application key for production',
  'qwertyuiopasdfghjklzxcvbnm1234567890',
];

async function boot(secret: string | string[]): Promise<void> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      TypeOrmModule.forRoot({
        type: 'better-sqlite3',
        database: ':memory:',
        entities: ARRAF_AUTH_ENTITIES,
        synchronize: true,
      }),
      // A staging-style opt-in, so only the secret decides whether production boots.
      ArrafAuthModule.forRoot({ secret, routes: false, sms: new ConsoleSmsProvider({ allowInProduction: true }) }),
    ],
  }).compile();
  await moduleRef.close();
}

async function bootError(secret: string | string[]): Promise<Error> {
  try {
    await boot(secret);
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the application not to boot');
}

const cliSecret = () =>
  execFileSync(process.execPath, ['dist/cli/arraf-auth.cli.js', 'secret'], { encoding: 'utf8' }).trim();

describe('secret strength', () => {
  const nodeEnv = process.env.NODE_ENV;
  afterEach(() => {
    process.env.NODE_ENV = nodeEnv;
    jest.restoreAllMocks();
  });

  // First in the file: the warning is written once per process.
  it('outside production, boots with a guessable secret and warns once, naming the option', async () => {
    process.env.NODE_ENV = 'development';
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    await boot(WEAK[0]);
    await boot(WEAK[1]);
    const lines = warn.mock.calls.map(([message]) => String(message)).filter((m) => m.startsWith('secret '));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^secret is too predictable: about \d+ bits of estimated entropy, 128 needed/);
  });

  it.each(WEAK)('in production, refuses %j at boot with one line naming the option', async (secret) => {
    process.env.NODE_ENV = 'production';
    const error = await bootError(secret);
    expect(error).toBeInstanceOf(ArrafAuthConfigError);
    expect(error.message).toMatch(/^ArrafAuthModule: invalid option secret: is too predictable: about \d+ bits/);
    expect(error.message).not.toContain('\n');
  });

  it('in production, names the weak entry of a rotation list', async () => {
    process.env.NODE_ENV = 'production';
    const error = await bootError([cliSecret(), WEAK[2]]);
    expect(error.message).toMatch(/^ArrafAuthModule: invalid option secret\[1\]: is too predictable/);
  });

  it('in production, boots with what `npx arraf-auth secret` and openssl print', async () => {
    process.env.NODE_ENV = 'production';
    await boot(cliSecret());
    await boot([randomBytes(32).toString('base64'), randomBytes(32).toString('hex')]);
  });

  it('estimates every one of 2,000 CLI-style secrets well above the floor, and every weak one below', () => {
    let lowest = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 2000; i++) lowest = Math.min(lowest, estimateSecretBits(randomBytes(32).toString('base64url')));
    expect(lowest).toBeGreaterThan(MIN_SECRET_BITS + 20);
    for (const secret of WEAK) expect(estimateSecretBits(secret)).toBeLessThan(MIN_SECRET_BITS);
  });
});
