import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

// The package's semver surface, checked in as api/public-api.md. The report is regenerated from the
// built .d.ts files (`npm test` builds first); any difference fails with how to update it, so a change
// of the surface is always a reviewed change of that file.
const root = process.cwd();
const REPORT = join(root, 'api', 'public-api.md');
const UPDATE = 'The public API changed. If that is intended, run `npm run api:report` and commit api/public-api.md.';

function freshReport(): string {
  return execFileSync(process.execPath, ['scripts/api-report.mjs', '--stdout'], { cwd: root, encoding: 'utf8' });
}

/** The names the report lists for one entry point (`- \`Name\`: kind` lines of its section). */
function exportsOf(report: string, entry: string): string[] {
  const start = report.indexOf(`## \`${entry}\``);
  const section = report.slice(start, report.indexOf('\n### ', start));
  return [...section.matchAll(/^- `([^`]+)`: /gm)].map((m) => m[1]);
}

function firstDifference(expected: string, actual: string): string {
  const want = expected.split('\n');
  const got = actual.split('\n');
  const line = want.findIndex((text, i) => text !== got[i]);
  const at = line === -1 ? want.length : line;
  return `first difference at line ${at + 1}:\n  checked in: ${want[at] ?? '<end>'}\n  built:      ${got[at] ?? '<end>'}`;
}

describe('the public API report', () => {
  const report = freshReport();

  it('matches api/public-api.md, the checked-in report', () => {
    const checkedIn = readFileSync(REPORT, 'utf8');
    if (checkedIn !== report) throw new Error(`${UPDATE}\n${firstDifference(checkedIn, report)}`);
  });

  it('is stable: the same build gives the same text, with no machine paths', () => {
    expect(freshReport()).toBe(report);
    expect(report).not.toContain(root);
    expect(report).not.toMatch(/import\("\.{1,2}\//);
  });

  it('lists every symbol SPEC §2 names and the extension points at the package root', () => {
    const names = exportsOf(report, '@arraf-auth/nestjs');
    const wanted = [
      // SPEC §2
      ...['ArrafAuthModule', 'SessionService', 'SessionGuard', 'CurrentUser', 'CurrentSession', 'Public'],
      ...['OtpService', 'PasswordService', 'AuthService', 'OtpStrategy', 'OtpAuthGuard', 'PasswordStrategy'],
      ...['PasswordAuthGuard', 'OAuthStrategy', 'OAuthAuthGuard', 'User', 'Session', 'Account', 'Verification'],
      ...['ARRAF_AUTH_ENTITIES', 'ARRAF_AUTH_MIGRATIONS', 'ARRAF_AUTH_OPTIONS', 'SMS_PROVIDER', 'ConsoleSmsProvider'],
      ...['UnifonicSmsProvider', 'TaqnyatSmsProvider', 'MsegatSmsProvider', 'TwilioSmsProvider', 'google'],
      ...['github', 'oidc', 'normalizePhone', 'ArrafAuthOptions', 'OAuthProviderConfig', 'SmsProvider'],
      // extension points
      ...['RATE_LIMIT_STORE', 'RateLimitStore', 'MemoryRateLimitStore', 'RedisRateLimitStore', 'SESSION_STORE'],
      ...['SessionStore', 'TypeOrmSessionStore', 'SessionCookie', 'HttpSmsProvider', 'ArrafAuthException'],
      ...['ArrafAuthExceptionFilter', 'ARRAF_AUTH_ERRORS', 'ArrafAuthErrorCode', 'RequireFreshSession'],
      ...['RateLimit', 'RateLimitGuard', 'arrafAuthOpenApi', 'VerificationService'],
    ];
    expect(wanted.filter((name) => !names.includes(name))).toEqual([]);
    expect(exportsOf(report, '@arraf-auth/nestjs/testing')).toEqual([
      'InMemorySmsProvider',
      'TestSession',
      'createTestSession',
    ]);
  });

  it('keeps internals out of the package root', () => {
    const names = exportsOf(report, '@arraf-auth/nestjs');
    const internals = [
      'REQUEST_OTP_SIGN_IN_KEY',
      'clientIpBucket',
      'PASSWORD_HASH_OPTIONS',
      'RATE_LIMIT_RULES',
      'SignInGuard',
      'RateLimiter',
      'OAuthService',
      'SignInMethodsService',
      'StrategyAuthGuard',
      'BodyGuard',
      'OriginGuard',
      'SignInInterceptor',
    ];
    expect(internals.filter((name) => names.includes(name))).toEqual([]);
  });
});
