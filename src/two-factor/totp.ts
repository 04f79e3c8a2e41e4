import { Secret, TOTP } from 'otpauth';
import { TOTP_DIGITS, TOTP_PERIOD, TOTP_WINDOW } from './two-factor.constants.js';

/** A fresh 160-bit TOTP secret (RFC 4226's recommended size), base32, from the platform's CSPRNG. */
export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

function totp(secret: string, issuer: string, label: string): TOTP {
  return new TOTP({
    issuer,
    label,
    algorithm: 'SHA1',
    digits: TOTP_DIGITS,
    period: TOTP_PERIOD,
    secret: Secret.fromBase32(secret),
  });
}

/** The `otpauth://totp/…` URI authenticator apps scan. */
export function totpUri(secret: string, issuer: string, label: string): string {
  return totp(secret, issuer, label).toString();
}

/**
 * The time step `code` is valid for (now ±1 step), or `null`. The caller accepts each step once.
 * otpauth compares in constant time.
 */
export function matchingTotpStep(secret: string, code: string, now = Date.now()): number | null {
  const delta = totp(secret, 'arraf', 'check').validate({ token: code, timestamp: now, window: TOTP_WINDOW });
  return delta === null ? null : Math.floor(now / 1000 / TOTP_PERIOD) + delta;
}
