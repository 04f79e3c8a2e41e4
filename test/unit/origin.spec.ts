import { describe, expect, it } from '@jest/globals';
import type { ArrafAuthOptions } from '../../src/options/arraf-auth-options.interface.js';
import { resolveArrafAuthOptions } from '../../src/options/arraf-auth-options.resolver.js';
import { isTrustedOrigin } from '../../src/session/origin.util.js';
import { TEST_SECRET } from '../apps/test-app.js';

const TRUSTED = ['https://app.example'];
const post = (headers: Record<string, string>) => ({ method: 'POST', headers: { host: 'api.example', ...headers } });

describe('isTrustedOrigin', () => {
  it('passes a request with neither Origin nor Referer only when no header is required', () => {
    expect(isTrustedOrigin(post({}), TRUSTED)).toBe(true);
    expect(isTrustedOrigin(post({}), TRUSTED, { requireHeader: true })).toBe(false);
  });

  it('judges Origin, or the Referer origin without it, the same whether or not a header is required', () => {
    for (const requireHeader of [false, true]) {
      expect(isTrustedOrigin(post({ origin: 'https://app.example' }), TRUSTED, { requireHeader })).toBe(true);
      expect(isTrustedOrigin(post({ referer: 'https://app.example/page' }), TRUSTED, { requireHeader })).toBe(true);
      expect(isTrustedOrigin(post({ origin: 'https://evil.example' }), TRUSTED, { requireHeader })).toBe(false);
      expect(isTrustedOrigin(post({ origin: 'null' }), TRUSTED, { requireHeader })).toBe(false);
      expect(isTrustedOrigin(post({ referer: 'not a url' }), TRUSTED, { requireHeader })).toBe(false);
    }
  });
});

describe('allowMissingOrigin option', () => {
  it('defaults to false and accepts a boolean', () => {
    expect(resolveArrafAuthOptions({ secret: TEST_SECRET }).allowMissingOrigin).toBe(false);
    expect(resolveArrafAuthOptions({ secret: TEST_SECRET, allowMissingOrigin: true }).allowMissingOrigin).toBe(true);
  });

  it('refuses anything else at boot, naming the option', () => {
    const options = { secret: TEST_SECRET, allowMissingOrigin: 'yes' } as unknown as ArrafAuthOptions;
    expect(() => resolveArrafAuthOptions(options)).toThrow(/allowMissingOrigin/);
  });
});
