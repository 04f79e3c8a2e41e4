import { boolean, fail, knownOptions } from '../options/option-checks.js';
import { parseDuration } from '../utils/duration.js';

/** Second factors and passkeys (`twoFactor` option). */
export interface ArrafAuthTwoFactorOptions {
  /**
   * How recently a session must have passed a second factor for routes marked
   * `@RequireTwoFactor()`: older proofs get 403 `TWO_FACTOR_REQUIRED`. Seconds or `'15m'` style.
   * @default '15m'
   */
  freshAge?: string | number;
  /**
   * Make enrolment mandatory: a signed-in user without a second factor (an authenticator app or a
   * passkey) reaches only the enrolment routes and sign-out; guarded routes answer 403
   * `TWO_FACTOR_ENROLMENT_REQUIRED`. @default false
   */
  required?: boolean;
  /**
   * The WebAuthn relying party ID passkeys are bound to: `appUrl`'s host or a registrable suffix of
   * it. Passkeys need `appUrl`; the origins they accept are `appUrl` and `trustedOrigins`.
   * @default the host of `appUrl`
   */
  passkeyRpId?: string;
}

/** `twoFactor` after validation. */
export interface ResolvedTwoFactorOptions {
  freshAge: number;
  required: boolean;
  /** `undefined` without `appUrl`: the passkey routes then answer 404. */
  passkeyRpId: string | undefined;
}

const KNOWN = ['freshAge', 'required', 'passkeyRpId'];
const HOST_LABELS = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** Validates `twoFactor` once at boot. */
export function resolveTwoFactorOptions(value: unknown, appUrl: string | undefined): ResolvedTwoFactorOptions {
  const input = knownOptions('twoFactor', value, KNOWN);
  const freshAge = parseDuration(input.freshAge ?? '15m');
  if (freshAge === undefined || freshAge < 1) {
    fail(
      'twoFactor.freshAge',
      `must be a positive number of seconds or a string like '15m' (got ${JSON.stringify(input.freshAge)})`,
    );
  }
  const required = boolean('twoFactor.required', input.required, false);
  return { freshAge, required, passkeyRpId: rpIdOf(input.passkeyRpId, appUrl) };
}

function rpIdOf(value: unknown, appUrl: string | undefined) {
  const host = appUrl === undefined ? undefined : new URL(appUrl).hostname;
  if (value === undefined) return host;
  if (typeof value !== 'string' || !HOST_LABELS.test(value))
    fail('twoFactor.passkeyRpId', 'must be a lower-case host name');
  if (host === undefined) fail('twoFactor.passkeyRpId', 'needs appUrl: passkeys are bound to the application origin');
  // WebAuthn: the RP ID must be the origin's host or a registrable suffix of it.
  if (host !== value && !host.endsWith(`.${value}`))
    fail('twoFactor.passkeyRpId', `must be ${host} or a parent domain of it`);
  return value;
}
