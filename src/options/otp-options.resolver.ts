import { OTP_DELIVERY_KEYS, resolveOtpDelivery } from '../otp/otp-delivery.options.js';
import { ConsoleSmsProvider } from '../sms/console.sms-provider.js';
import type { ResolvedArrafAuthOptions } from './arraf-auth-options.interface.js';
import { fail, integer, objectAt, rejectUnknown } from './option-checks.js';

const COUNTRY = /^[A-Z]{2}$/;
const DEFAULT_OTP_MESSAGES = {
  ar: 'رمز التحقق لـ {appName}: {code}\nصالح لمدة {minutes} دقائق. لا تشاركه مع أحد.',
  en: 'Your {appName} verification code is {code}. It expires in {minutes} minutes. Do not share it.',
};

const OTP_KEYS = [
  'length',
  'expiresIn',
  'maxAttempts',
  'resendCooldown',
  'maxSendsPerHour',
  'maxSendsPerClientPerHour',
  'maxFailuresPerClient',
  'maxFailuresPerDay',
  'maxFailuresPer30Days',
  'maxConsecutiveFailures',
  'delayAfterFailures',
  'initialDelay',
  'maxDelay',
  'messages',
  ...OTP_DELIVERY_KEYS,
];

/** `otp`: the phone code, its send caps and guess bounds, the SMS texts, and its delivery (channels, pumping guard). */
export function resolveOtp(value: unknown, defaultCountry: string): ResolvedArrafAuthOptions['otp'] {
  const otp = objectAt('otp', value);
  rejectUnknown('otp', otp, OTP_KEYS);
  const messages = objectAt('otp.messages', otp.messages);
  rejectUnknown('otp.messages', messages, ['ar', 'en']);
  for (const [lang, text] of Object.entries(messages)) {
    if (typeof text !== 'string' || !text.includes('{code}'))
      fail(`otp.messages.${lang}`, 'must be a string containing {code}');
  }
  const length = integer('otp.length', otp.length, 6, 6, 10);
  return {
    length,
    expiresIn: integer('otp.expiresIn', otp.expiresIn, 300, 30, 600),
    maxAttempts: integer('otp.maxAttempts', otp.maxAttempts, 5, 1, 10),
    resendCooldown: integer('otp.resendCooldown', otp.resendCooldown, 60, 0, 3600),
    ...resolveOtpLimits(otp),
    messages: { ...DEFAULT_OTP_MESSAGES, ...(messages as { ar?: string; en?: string }) },
    ...resolveOtpDelivery(otp, length, defaultCountry, fail),
  };
}

/** The send caps and guess bounds of phone codes; each bound at most the one above it. */
function resolveOtpLimits(otp: Record<string, unknown>) {
  const maxSendsPerHour = integer('otp.maxSendsPerHour', otp.maxSendsPerHour, 5, 1, 100);
  const perDay = integer('otp.maxFailuresPerDay', otp.maxFailuresPerDay, 50, 1, 1000);
  const consecutive = integer('otp.maxConsecutiveFailures', otp.maxConsecutiveFailures, 100, 1, 100);
  const initialDelay = integer('otp.initialDelay', otp.initialDelay, 30, 1, 86_400);
  // Each default follows the bound above it, so lowering one option does not make another fail.
  const bounded = (key: string, fallback: number, min: number, max: number) =>
    integer(`otp.${key}`, otp[key], fallback, min, max);
  return {
    maxSendsPerHour,
    maxSendsPerClientPerHour: bounded('maxSendsPerClientPerHour', Math.min(3, maxSendsPerHour), 1, maxSendsPerHour),
    maxFailuresPerClient: bounded('maxFailuresPerClient', Math.min(10, perDay), 1, perDay),
    maxFailuresPerDay: perDay,
    maxFailuresPer30Days: bounded('maxFailuresPer30Days', Math.max(200, perDay), perDay, 100_000),
    maxConsecutiveFailures: consecutive,
    delayAfterFailures: bounded('delayAfterFailures', Math.min(10, consecutive - 1), 0, consecutive - 1),
    initialDelay,
    maxDelay: bounded('maxDelay', Math.max(3600, initialDelay), initialDelay, 86_400),
  };
}

/** `phone`: the country assumed for national numbers and the countries allowed at all. */
export function resolvePhone(value: unknown): ResolvedArrafAuthOptions['phone'] {
  const phone = objectAt('phone', value);
  rejectUnknown('phone', phone, ['defaultCountry', 'allowedCountries']);
  const defaultCountry = phone.defaultCountry ?? 'SA';
  if (typeof defaultCountry !== 'string' || !COUNTRY.test(defaultCountry)) {
    fail('phone.defaultCountry', 'must be an ISO 3166 alpha-2 country code such as "SA"');
  }
  let allowed: string[] | undefined;
  if (phone.allowedCountries !== undefined) {
    if (!Array.isArray(phone.allowedCountries) || phone.allowedCountries.length === 0) {
      fail('phone.allowedCountries', 'must be a non-empty array of country codes such as ["SA", "AE"]');
    }
    allowed = phone.allowedCountries.map((c, i) => {
      if (typeof c !== 'string' || !COUNTRY.test(c))
        fail(`phone.allowedCountries[${i}]`, 'must be a country code such as "SA"');
      return c;
    });
  }
  return { defaultCountry, allowedCountries: allowed };
}

/** `sms`: anything with a `send` method; the production rule is checked where the provider is built. */
export function checkSmsProvider(sms: unknown): void {
  if (sms !== undefined && typeof (sms as { send?: unknown } | null)?.send !== 'function') {
    fail('sms', 'must be an SmsProvider: an object with a send({ to, code, message }) method');
  }
}

/**
 * The console provider writes live sign-in codes to the log: with NODE_ENV=production it needs an
 * explicit opt-in (a staging server), whether it was given or is the default for a missing `sms`.
 * Checked where the `SMS_PROVIDER` is built, so an application that overrides that provider (its own
 * provider, a test double) is not refused for the default it replaced.
 */
export function refuseConsoleSmsInProduction(sms: unknown): void {
  if (process.env.NODE_ENV !== 'production') return;
  if (sms !== undefined && !(sms instanceof ConsoleSmsProvider)) return;
  if (sms instanceof ConsoleSmsProvider && sms.allowInProduction) return;
  fail(
    'sms',
    `${sms === undefined ? 'is not set, so ConsoleSmsProvider would' : 'ConsoleSmsProvider would'} write sign-in codes to the log with NODE_ENV=production; ` +
      'pass a real provider (UnifonicSmsProvider, TaqnyatSmsProvider, MsegatSmsProvider, TwilioSmsProvider) ' +
      'or, on a staging server, new ConsoleSmsProvider({ allowInProduction: true })',
  );
}
