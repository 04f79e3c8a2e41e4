import { describe, expect, it } from '@jest/globals';
import { resolveArrafAuthOptions } from '../../src/options/arraf-auth-options.resolver.js';
import type { ArrafAuthOptions } from '../../src/options/arraf-auth-options.interface.js';

const secret = 'test-secret-0123456789abcdefghijklmnopqrstuvwxyz';
const resolve = (extra: Record<string, unknown>) => resolveArrafAuthOptions({ secret, ...extra } as ArrafAuthOptions);

describe('twoFactor options, validated at boot', () => {
  it('defaults: freshAge 15 minutes, not required, passkeys bound to the host of appUrl', () => {
    expect(resolve({}).twoFactor).toStrictEqual({ freshAge: 900, required: false, passkeyRpId: undefined });
    expect(
      resolve({ appUrl: 'https://app.bank.sa', twoFactor: { freshAge: '5m', required: true } }).twoFactor,
    ).toStrictEqual({
      freshAge: 300,
      required: true,
      passkeyRpId: 'app.bank.sa',
    });
    expect(
      resolve({ appUrl: 'https://app.bank.sa', twoFactor: { passkeyRpId: 'bank.sa' } }).twoFactor.passkeyRpId,
    ).toBe('bank.sa');
  });

  it.each([
    [{ twoFactor: 'on' }, 'twoFactor: must be an object'],
    [{ twoFactor: { freshAge: 'soon' } }, 'twoFactor.freshAge'],
    [{ twoFactor: { freshAge: 0 } }, 'twoFactor.freshAge'],
    [{ twoFactor: { required: 'yes' } }, 'twoFactor.required: must be true or false'],
    [{ twoFactor: { enforce: true } }, 'twoFactor.enforce: is not a known option'],
    [{ twoFactor: { passkeyRpId: 'bank.sa' } }, 'twoFactor.passkeyRpId: needs appUrl'],
    [
      { appUrl: 'https://app.bank.sa', twoFactor: { passkeyRpId: 'other.sa' } },
      'twoFactor.passkeyRpId: must be app.bank.sa',
    ],
  ])('refuses %j', (extra, message) => {
    expect(() => resolve(extra)).toThrow(message);
  });
});
