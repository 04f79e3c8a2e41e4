import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { Test } from '@nestjs/testing';
import { ARRAF_AUTH_OPTIONS } from '../../src/arraf-auth.constants.js';
import type { ArrafAuthOptions, ResolvedArrafAuthOptions } from '../../src/options/arraf-auth-options.interface.js';
import { ArrafAuthConfigError, resolveArrafAuthOptions } from '../../src/options/arraf-auth-options.resolver.js';
import { DEFAULT_RATE_LIMITS } from '../../src/rate-limit/rate-limit.constants.js';
import { TEST_SECRET } from '../apps/test-app.js';

/** Resolved the way the module does it: a provider built from the raw options at boot. */
async function resolve(options: Record<string, unknown>): Promise<ResolvedArrafAuthOptions> {
  const moduleRef = await Test.createTestingModule({
    providers: [
      {
        provide: ARRAF_AUTH_OPTIONS,
        useFactory: () => resolveArrafAuthOptions({ secret: TEST_SECRET, ...options } as ArrafAuthOptions),
      },
    ],
  }).compile();
  return moduleRef.get(ARRAF_AUTH_OPTIONS);
}

/** The refusal's message, checked to be one `ArrafAuthModule: invalid option <path>: <message>` line. */
async function refusal(options: Record<string, unknown>): Promise<string> {
  const error = await resolve(options).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(ArrafAuthConfigError);
  const message = (error as Error).message;
  expect(message).toMatch(/^ArrafAuthModule: invalid option \S+: \S/);
  expect(message).not.toContain('\n');
  return message;
}

describe('resolveArrafAuthOptions defaults', () => {
  it('fills every option with its documented default', async () => {
    const resolved = await resolve({});
    expect(resolved).toEqual({
      secrets: [TEST_SECRET],
      session: {
        strategy: 'jwt',
        expiresIn: 30 * 86_400,
        updateAge: 86_400,
        idleTimeout: undefined,
        freshAge: 86_400,
        absoluteTimeout: 90 * 86_400,
        cookieName: '__Host-auth_session',
        cookie: { secure: true, httpOnly: true, sameSite: 'lax', domain: undefined, path: '/' },
        bearer: false,
        cache: { enabled: false, max: 10_000, ttl: 30, maxLag: 1000, heartbeatInterval: 250, redis: undefined },
      },
      hooks: {},
      callbacks: {},
      otp: {
        length: 6,
        expiresIn: 300,
        maxAttempts: 5,
        resendCooldown: 60,
        maxSendsPerHour: 5,
        maxSendsPerClientPerHour: 3,
        maxFailuresPerClient: 10,
        maxFailuresPerDay: 50,
        maxFailuresPer30Days: 200,
        maxConsecutiveFailures: 100,
        delayAfterFailures: 10,
        initialDelay: 30,
        maxDelay: 3600,
        messages: { ar: expect.stringContaining('{code}'), en: expect.stringContaining('{code}') },
        channels: ['sms'],
        fallbackAfter: undefined,
        whatsappMessages: undefined,
        allowLinksInMessages: false,
        prefixGuard: {
          digits: 2,
          maxSendsPerHour: 300,
          minSends: 30,
          minVerifiedRatio: 0.1,
          window: 3600,
          pauseFor: 3600,
        },
        dailyBudget: 10_000,
        testNumbers: new Map(),
        allowTestNumbersInProduction: false,
      },
      phone: { defaultCountry: 'SA', allowedCountries: undefined },
      sms: undefined,
      password: { minLength: 8, maxLength: 128 },
      rateLimit: { storage: { type: 'memory' }, limits: DEFAULT_RATE_LIMITS },
      providers: [],
      trustedOrigins: [],
      twoFactor: { freshAge: 900, passkeyRpId: undefined, required: false },
      retention: { deleteExpired: true, ipAddressesAfterDays: 90, securityEventsAfterDays: false, batchSize: 1000 },
      allowMissingOrigin: false,
      routes: { enabled: true, path: 'auth' },
      appName: 'Arraf',
      appUrl: undefined,
    });
    expect(resolved.rateLimit.limits['sign-up:identifier']).toEqual({ limit: 5, window: 3600 });
  });

  it('reads durations as strings or seconds and lowers dependent defaults with the bound above them', async () => {
    const resolved = await resolve({
      session: { expiresIn: '2h', updateAge: 600, idleTimeout: '30m' },
      otp: { maxSendsPerHour: 2, maxFailuresPerDay: 4, maxConsecutiveFailures: 5, initialDelay: 7200 },
    });
    expect(resolved.session).toMatchObject({ expiresIn: 7200, updateAge: 600, idleTimeout: 1800 });
    expect(resolved.otp).toMatchObject({
      maxSendsPerClientPerHour: 2,
      maxFailuresPerClient: 4,
      maxFailuresPer30Days: 200,
      delayAfterFailures: 4,
      maxDelay: 7200,
    });
  });

  it('drops __Host- when the cookie cannot carry it, and keeps appUrl first among trusted origins', async () => {
    const resolved = await resolve({
      session: { cookieOptions: { domain: 'example.com' } },
      appUrl: 'https://app.example/path',
      trustedOrigins: ['https://admin.example/', 'https://app.example'],
    });
    expect(resolved.session.cookieName).toBe('auth_session');
    expect(resolved.trustedOrigins).toEqual(['https://app.example', 'https://admin.example']);
    expect((await resolve({ routes: { path: '/api/auth/' } })).routes).toEqual({ enabled: true, path: 'api/auth' });
    expect((await resolve({ routes: false })).routes).toEqual({ enabled: false, path: 'auth' });
  });
});

describe('resolveArrafAuthOptions refusals', () => {
  it.each<[string, Record<string, unknown>]>([
    ['secret', { secret: undefined }],
    ['secret', { secret: 'short' }],
    ['secret[1]', { secret: [TEST_SECRET, 'a'.repeat(40)] }],
    ['unknownOption', { unknownOption: 1 }],
    ['session.strategy', { session: { strategy: 'cookie' } }],
    ['session.expiresIn', { session: { expiresIn: 'forever' } }],
    ['session.idleTimeout', { session: { idleTimeout: 30 } }],
    ['session.updateAge', { session: { expiresIn: '1h' } }],
    ['session.absoluteTimeout', { session: { expiresIn: '100d' } }],
    ['session.cookieName', { session: { cookieName: '__Host-x' } }],
    ['session.cookieOptions.sameSite', { session: { cookieOptions: { sameSite: 'none', secure: false } } }],
    ['session.cookieOptions.domain', { session: { cookieOptions: { domain: 'exa mple.com' } } }],
    ['session.cookieOptions.path', { session: { cookieOptions: { path: 'no-slash' } } }],
    ['session.cookieOptions.hostPrefix', { session: { cookieOptions: { hostPrefix: true, path: '/app' } } }],
    ['session.cookieOptions.colour', { session: { cookieOptions: { colour: 'red' } } }],
    ['session.cache', { session: { cache: 'yes' } }],
    ['hooks.afterSignIn', { hooks: { afterSignIn: 'not a function' } }],
    ['callbacks.onSomething', { callbacks: { onSomething: () => undefined } }],
    ['sms', { sms: {} }],
    ['appUrl', { appUrl: 'not a url' }],
    ['trustedOrigins[0]', { trustedOrigins: ['ftp://files.example'] }],
    ['trustedOrigins', { trustedOrigins: 'https://a.example' }],
    ['appName', { appName: '  ' }],
    ['allowMissingOrigin', { allowMissingOrigin: 'yes' }],
    ['otp.length', { otp: { length: 4 } }],
    ['otp.messages.en', { otp: { messages: { en: 'no placeholder' } } }],
    ['otp.maxSendsPerClientPerHour', { otp: { maxSendsPerHour: 2, maxSendsPerClientPerHour: 3 } }],
    ['otp.maxDelay', { otp: { initialDelay: 100, maxDelay: 50 } }],
    ['phone.defaultCountry', { phone: { defaultCountry: 'sa' } }],
    ['phone.allowedCountries[1]', { phone: { allowedCountries: ['SA', 'UAE'] } }],
    ['password.minLength', { password: { minLength: 200, maxLength: 100 } }],
    ['rateLimit.storage', { rateLimit: { storage: 'disk' } }],
    ['rateLimit.storage.redis', { rateLimit: { storage: { redis: 'http://127.0.0.1:6379' } } }],
    ['rateLimit.limits.unknown-rule', { rateLimit: { limits: { 'unknown-rule': { limit: 1 } } } }],
    ['rateLimit.limits.sign-in:ip.limit', { rateLimit: { limits: { 'sign-in:ip': { limit: 0 } } } }],
    ['routes.path', { routes: { path: 'a/../b' } }],
    ['providers', { providers: 'google' }],
  ])('refuses %s, naming it in one `path: message` line', async (path, options) => {
    expect(await refusal(options)).toContain(`invalid option ${path}: `);
  });

  it('reports the first bad option only, in the order the options are read', async () => {
    const message = await refusal({ bogus: true, session: { strategy: 'cookie' } });
    expect(message).toBe('ArrafAuthModule: invalid option bogus: is not a known option');
  });
});
