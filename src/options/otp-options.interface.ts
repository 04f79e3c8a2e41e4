import type { OtpDeliveryOptions } from '../otp/otp-delivery.options.js';

/**
 * One-time phone codes. Durations in seconds. Channels, the SMS-pumping guard and reviewer numbers
 * are described in {@link OtpDeliveryOptions}.
 */
export interface ArrafAuthOtpOptions extends OtpDeliveryOptions {
  /** Digits per code (6 to 10). @default 6 */
  length?: number;
  /** Lifetime of a code in seconds (at most 600). @default 300 */
  expiresIn?: number;
  /** Guesses allowed per code; then the code is used up and a new one must be sent. @default 5 */
  maxAttempts?: number;
  /** Seconds before the same client (address; IPv6 per /64) can have another code sent to the same number. @default 60 */
  resendCooldown?: number;
  /**
   * Codes per number per hour from all clients together: bounds SMS bombing of one number; one
   * client can spend at most `maxSendsPerClientPerHour` of it, so the owner keeps the rest. @default 5
   */
  maxSendsPerHour?: number;
  /** Codes per number per hour that one client can have sent; at most `maxSendsPerHour`. @default 3 */
  maxSendsPerClientPerHour?: number;
  /**
   * Guesses one client may make for one number per 24 hours; past it that client (it has failed)
   * gets 429 `OTP_TOO_MANY_ATTEMPTS` until its window ends, and nobody else does. A success starts it
   * again. @default 10
   */
  maxFailuresPerClient?: number;
  /** Guesses per number per 24 hours from every client together (every guess counts, right or wrong). @default 50 */
  maxFailuresPerDay?: number;
  /** Guesses per number per 30 days from every client together; at least `maxFailuresPerDay`. @default 200 */
  maxFailuresPer30Days?: number;
  /**
   * Guesses per number since its last successful code (NIST SP 800-63B: at most 100), counted over
   * 30 days. @default 100
   */
  maxConsecutiveFailures?: number;
  /**
   * Consecutive failed guesses of a number after which it takes one guess per delay (progressive
   * delay, a growing `Retry-After`). @default 10
   */
  delayAfterFailures?: number;
  /** First progressive delay in seconds; it doubles with each further failure. @default 30 */
  initialDelay?: number;
  /** Longest progressive delay in seconds. @default 3600 */
  maxDelay?: number;
  /**
   * SMS text per language, chosen by the request's `Accept-Language` (Arabic by default).
   * Placeholders: `{code}`, `{appName}`, `{minutes}`.
   * @default { ar: 'رمز التحقق لـ {appName}: {code} ...', en: 'Your {appName} code is {code} ...' }
   */
  messages?: { ar?: string; en?: string };
}

/** Phone number handling. */
export interface ArrafAuthPhoneOptions {
  /** Country assumed for numbers without a country code (ISO 3166 alpha-2). @default 'SA' */
  defaultCountry?: string;
  /** Only numbers of these countries get codes (SMS-pumping defence). @default undefined (all) */
  allowedCountries?: string[];
}
