import { OTP_CHANNELS, type OtpChannel } from '../sms/sms-provider.interface.js';
import { parsePhone } from '../phone/normalize-phone.js';

/**
 * The SMS-pumping guard per number prefix (the country code and the first `digits` digits of the
 * national number, e.g. `+966 55`): a cap on codes per hour, and a conversion breaker that pauses a
 * prefix whose codes are rarely verified (the mark of a pumping attack: texts to premium ranges that
 * nobody types in).
 */
export interface OtpPrefixGuardOptions {
  /** National digits after the country code that make a prefix (1 to 6). @default 2 */
  digits?: number;
  /** Codes sent to one prefix per hour, from all clients together. @default 300 */
  maxSendsPerHour?: number;
  /** Codes a prefix must have been sent within `window` before the breaker judges it. @default 30 */
  minSends?: number;
  /** Below this share of sent codes verified (0 to 1), the prefix pauses. @default 0.1 */
  minVerifiedRatio?: number;
  /** Seconds over which sends and verifications of a prefix are counted. @default 3600 */
  window?: number;
  /** Seconds a prefix pauses when the breaker trips (`429 OTP_PREFIX_PAUSED`). @default 3600 */
  pauseFor?: number;
}

/** Options of the phone-code channels, the pumping guard and reviewer numbers (part of `otp`). */
export interface OtpDeliveryOptions {
  /**
   * Channels codes may go out on, in order of preference. A request's `channel` picks the first; when
   * it fails (vendor error, timeout) the same code goes out once on the next one. Channels the
   * provider does not declare are skipped. @default ['sms']
   */
  channels?: OtpChannel[];
  /**
   * Seconds to wait for a WhatsApp delivery receipt before the same code goes out on the next
   * channel. Needs a provider that reads receipts (`readReceipts`): Twilio, which is handed
   * `POST {appUrl}/{global prefix}/{routes.path}/otp/receipts/{token}` with each message (so `appUrl`
   * is needed), or Unifonic and Taqnyat with `whatsapp.receiptToken`, whose console webhook is set to
   * the same route with that token. @default off (fallback only on a vendor error or timeout)
   */
  fallbackAfter?: number;
  /**
   * Text per language for providers that take free text on WhatsApp (the console provider, your
   * own); the built-in vendors send their approved template instead. Placeholders as in `messages`.
   * @default the `messages` texts
   */
  whatsappMessages?: { ar?: string; en?: string };
  /**
   * Allow links in message texts. Saudi sender-ID rules drop SMS with unregistered links, so a text
   * with a URL stops the boot unless this is set. @default false
   */
  allowLinksInMessages?: boolean;
  /** Per-prefix velocity cap and conversion breaker. @default see {@link OtpPrefixGuardOptions} */
  prefixGuard?: OtpPrefixGuardOptions;
  /**
   * Codes sent per 24 hours by the whole application; past it sends answer `503
   * OTP_BUDGET_EXHAUSTED` and an `error` line is logged, so a flood cannot run up an unbounded bill.
   * @default 10000
   */
  dailyBudget?: number;
  /**
   * Reviewer numbers (app-store review): `{ '+966500000001': '123456' }`. No message is sent, the
   * fixed code signs in, and every use is logged. Refused at boot with `NODE_ENV=production` unless
   * `allowTestNumbersInProduction`. @default {}
   */
  testNumbers?: Record<string, string>;
  /** Keep `testNumbers` working with `NODE_ENV=production` (a store-review build). @default false */
  allowTestNumbersInProduction?: boolean;
}

/** {@link OtpDeliveryOptions} with every default applied. */
export interface ResolvedOtpDeliveryOptions {
  channels: readonly OtpChannel[];
  fallbackAfter: number | undefined;
  whatsappMessages: { ar: string; en: string } | undefined;
  allowLinksInMessages: boolean;
  prefixGuard: Required<OtpPrefixGuardOptions>;
  dailyBudget: number;
  /** By E.164 number. */
  testNumbers: ReadonlyMap<string, string>;
  allowTestNumbersInProduction: boolean;
}

/** The keys of `otp` that {@link resolveOtpDelivery} reads. */
export const OTP_DELIVERY_KEYS = [
  'channels',
  'fallbackAfter',
  'whatsappMessages',
  'allowLinksInMessages',
  'prefixGuard',
  'dailyBudget',
  'testNumbers',
  'allowTestNumbersInProduction',
];

type Fail = (path: string, message: string) => never;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Validates the delivery options of `otp` at boot; `fail` reports a bad option by its path. */
export function resolveOtpDelivery(
  otp: Record<string, unknown>,
  codeLength: number,
  defaultCountry: string,
  fail: Fail,
): ResolvedOtpDeliveryOptions {
  const flag = (name: string): boolean => {
    const value = otp[name];
    if (value !== undefined && typeof value !== 'boolean') fail(`otp.${name}`, 'must be true or false');
    return value === true;
  };
  const allowTestNumbersInProduction = flag('allowTestNumbersInProduction');
  const testNumbers = resolveTestNumbers(otp.testNumbers, codeLength, defaultCountry, fail);
  if (testNumbers.size > 0 && process.env.NODE_ENV === 'production' && !allowTestNumbersInProduction) {
    fail(
      'otp.testNumbers',
      'reviewer numbers sign in with a fixed code; with NODE_ENV=production set otp.allowTestNumbersInProduction to keep them (a store-review build)',
    );
  }
  return {
    channels: resolveChannels(otp.channels, fail),
    fallbackAfter:
      otp.fallbackAfter === undefined ? undefined : whole('otp.fallbackAfter', otp.fallbackAfter, 0, 1, 600, fail),
    whatsappMessages: resolveTexts('otp.whatsappMessages', otp.whatsappMessages, fail),
    allowLinksInMessages: flag('allowLinksInMessages'),
    prefixGuard: resolvePrefixGuard(otp.prefixGuard, fail),
    dailyBudget: whole('otp.dailyBudget', otp.dailyBudget, 10_000, 1, 10_000_000, fail),
    testNumbers,
    allowTestNumbersInProduction,
  };
}

function whole(path: string, value: unknown, fallback: number, min: number, max: number, fail: Fail): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(path, `must be a whole number from ${min} to ${max} (got ${JSON.stringify(value)})`);
  }
  return value;
}

function resolveChannels(value: unknown, fail: Fail): readonly OtpChannel[] {
  if (value === undefined) return ['sms'];
  const ok =
    Array.isArray(value) &&
    value.length > 0 &&
    value.every((c) => OTP_CHANNELS.includes(c as OtpChannel)) &&
    new Set(value).size === value.length;
  if (!ok) fail('otp.channels', `must be a non-empty list of distinct channels from 'sms', 'whatsapp'`);
  return [...(value as OtpChannel[])];
}

/** Texts per language; each needs `{code}`. `undefined` when not given. */
export function resolveTexts(path: string, value: unknown, fail: Fail): { ar: string; en: string } | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value)) fail(path, 'must be an object');
  for (const key of Object.keys(value)) if (key !== 'ar' && key !== 'en') fail(`${path}.${key}`, 'is not an option');
  for (const [lang, text] of Object.entries(value)) {
    if (typeof text !== 'string' || !text.includes('{code}'))
      fail(`${path}.${lang}`, 'must be a string containing {code}');
  }
  return value as { ar: string; en: string };
}

function resolvePrefixGuard(value: unknown, fail: Fail): Required<OtpPrefixGuardOptions> {
  if (value !== undefined && !isObject(value)) fail('otp.prefixGuard', 'must be an object');
  const guard = (value ?? {}) as Record<string, unknown>;
  const known = ['digits', 'maxSendsPerHour', 'minSends', 'minVerifiedRatio', 'window', 'pauseFor'];
  for (const key of Object.keys(guard)) if (!known.includes(key)) fail(`otp.prefixGuard.${key}`, 'is not an option');
  const ratio = guard.minVerifiedRatio ?? 0.1;
  if (typeof ratio !== 'number' || !(ratio >= 0 && ratio <= 1)) {
    fail('otp.prefixGuard.minVerifiedRatio', `must be a number from 0 to 1 (got ${JSON.stringify(ratio)})`);
  }
  const path = (name: string) => `otp.prefixGuard.${name}`;
  return {
    digits: whole(path('digits'), guard.digits, 2, 1, 6, fail),
    maxSendsPerHour: whole(path('maxSendsPerHour'), guard.maxSendsPerHour, 300, 1, 1_000_000, fail),
    minSends: whole(path('minSends'), guard.minSends, 30, 1, 1_000_000, fail),
    minVerifiedRatio: ratio,
    window: whole(path('window'), guard.window, 3600, 60, 86_400, fail),
    pauseFor: whole(path('pauseFor'), guard.pauseFor, 3600, 1, 7 * 86_400, fail),
  };
}

function resolveTestNumbers(value: unknown, length: number, country: string, fail: Fail): Map<string, string> {
  const numbers = new Map<string, string>();
  if (value === undefined) return numbers;
  if (!isObject(value)) fail('otp.testNumbers', `must be an object such as { '+966500000001': '123456' }`);
  for (const [phone, code] of Object.entries(value)) {
    let e164: string;
    try {
      e164 = parsePhone(phone, country).e164;
    } catch {
      fail(`otp.testNumbers.${phone}`, 'is not a valid mobile number');
    }
    if (typeof code !== 'string' || !new RegExp(`^[0-9]{${length}}$`).test(code)) {
      fail(`otp.testNumbers.${phone}`, `must be a code of otp.length (${length}) digits`);
    }
    numbers.set(e164, code);
  }
  return numbers;
}
