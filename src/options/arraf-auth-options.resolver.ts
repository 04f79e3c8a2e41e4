import { resolveOAuthProviders } from '../oauth/oauth-providers.resolver.js';
import {
  DEFAULT_RATE_LIMITS,
  DEFAULT_REDIS_COMMAND_TIMEOUT_MS,
  RATE_LIMIT_RULES,
  type RateLimitRule,
  type RateLimitRuleLimit,
} from '../rate-limit/rate-limit.constants.js';
import { OTP_DELIVERY_KEYS, resolveOtpDelivery } from '../otp/otp-delivery.options.js';
import { ConsoleSmsProvider } from '../sms/console.sms-provider.js';
import { parseDuration } from '../utils/duration.js';
import type { ArrafAuthOptions, ResolvedArrafAuthOptions } from './arraf-auth-options.interface.js';

/** Thrown at boot when the configuration is unusable; the message names the option. */
export class ArrafAuthConfigError extends Error {
  constructor(path: string, message: string) {
    super(`ArrafAuthModule: invalid option ${path}: ${message}`);
    this.name = 'ArrafAuthConfigError';
  }
}

const COOKIE_NAME = /^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/;
const ROUTE_PATH = /^[A-Za-z0-9\-_.~]+(\/[A-Za-z0-9\-_.~]+)*$/;
const MIN_SECRET_LENGTH = 32;
const MIN_DISTINCT_SECRET_CHARS = 10;

function fail(path: string, message: string): never {
  throw new ArrafAuthConfigError(path, message);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function objectAt(path: string, value: unknown): Record<string, unknown> {
  if (value === undefined) return {};
  if (!isPlainObject(value)) fail(path, 'must be an object');
  return value;
}

function duration(path: string, value: unknown, fallback: string | number | undefined, min = 1): number | undefined {
  const raw = value ?? fallback;
  if (raw === undefined) return undefined;
  const seconds = parseDuration(raw);
  if (seconds === undefined) {
    fail(path, `must be a whole number of seconds or a string like '15m', '12h', '30d' (got ${JSON.stringify(raw)})`);
  }
  if (seconds < min) fail(path, `must be at least ${min} second${min === 1 ? '' : 's'}`);
  return seconds;
}

function boolean(path: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') fail(path, 'must be true or false');
  return value;
}

function oneOf<T extends string>(path: string, value: unknown, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value as T)) {
    fail(path, `must be one of ${allowed.map((a) => `'${a}'`).join(', ')} (got ${JSON.stringify(value)})`);
  }
  return value as T;
}

function origin(path: string, value: unknown): string {
  if (typeof value !== 'string') fail(path, 'must be a URL string such as https://example.com');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    fail(path, `is not a valid URL (got ${JSON.stringify(value)})`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') fail(path, 'must use http or https');
  return url.origin;
}

function resolveSecrets(value: unknown): string[] {
  if (value === undefined || value === null || value === '') {
    fail('secret', `is required: at least ${MIN_SECRET_LENGTH} random characters (npx arraf-auth secret prints one)`);
  }
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0) fail('secret', 'must contain at least one secret');
  list.forEach((secret, i) => {
    const path = Array.isArray(value) ? `secret[${i}]` : 'secret';
    if (typeof secret !== 'string') fail(path, 'must be a string');
    if ([...secret].length < MIN_SECRET_LENGTH) {
      fail(path, `must be at least ${MIN_SECRET_LENGTH} characters (npx arraf-auth secret prints one)`);
    }
    if (new Set(secret).size < MIN_DISTINCT_SECRET_CHARS) {
      fail(path, 'looks like a placeholder, not a random secret (npx arraf-auth secret prints one)');
    }
  });
  return list as string[];
}

function resolveSession(value: unknown): ResolvedArrafAuthOptions['session'] {
  const session = objectAt('session', value);
  const cookieOptions = objectAt('session.cookieOptions', session.cookieOptions);

  const strategy = oneOf('session.strategy', session.strategy, ['jwt', 'database'] as const, 'jwt');
  const expiresIn = duration('session.expiresIn', session.expiresIn, '30d')!;
  const updateAge = duration('session.updateAge', session.updateAge, '1d', 0)!;
  const idleTimeout = duration('session.idleTimeout', session.idleTimeout, undefined, 60);
  const freshAge = duration('session.freshAge', session.freshAge, '1d')!;
  const absoluteTimeout = duration('session.absoluteTimeout', session.absoluteTimeout, '90d')!;
  if (absoluteTimeout < expiresIn) {
    const which = session.absoluteTimeout === undefined ? "(default '90d') " : '';
    fail('session.absoluteTimeout', `${which}must be at least session.expiresIn; raise it or shorten expiresIn`);
  }
  if (updateAge >= expiresIn) {
    // A short expiresIn alone trips the '1d' default: say so, or the user hunts for an option they never set.
    const which = session.updateAge === undefined ? "(default '1d') " : '';
    fail('session.updateAge', `${which}must be shorter than session.expiresIn; set session.updateAge below it`);
  }

  const baseName = session.cookieName ?? 'auth_session';
  if (typeof baseName !== 'string' || !COOKIE_NAME.test(baseName)) {
    fail('session.cookieName', 'must be a non-empty cookie token (letters, digits, - _ . and similar)');
  }
  if (/^__(host|secure)-/i.test(baseName)) {
    fail('session.cookieName', 'must not carry a __Host- or __Secure- prefix; the library adds __Host- itself');
  }

  const secure = boolean('session.cookieOptions.secure', cookieOptions.secure, true);
  const httpOnly = boolean('session.cookieOptions.httpOnly', cookieOptions.httpOnly, true);
  const sameSite = oneOf(
    'session.cookieOptions.sameSite',
    cookieOptions.sameSite,
    ['strict', 'lax', 'none'] as const,
    'lax',
  );
  if (sameSite === 'none' && !secure) {
    fail(
      'session.cookieOptions.sameSite',
      "'none' requires session.cookieOptions.secure: true (browsers drop it otherwise)",
    );
  }
  const domain = cookieOptions.domain;
  if (domain !== undefined && (typeof domain !== 'string' || !/^\.?[A-Za-z0-9.-]+$/.test(domain))) {
    fail('session.cookieOptions.domain', 'must be a host name such as example.com');
  }
  const path = cookieOptions.path ?? '/';
  if (typeof path !== 'string' || !path.startsWith('/') || /[;\s]/.test(path)) {
    fail('session.cookieOptions.path', "must start with '/' and contain no ';' or spaces");
  }
  const hostPrefixOption = cookieOptions.hostPrefix;
  if (hostPrefixOption !== undefined && typeof hostPrefixOption !== 'boolean') {
    fail('session.cookieOptions.hostPrefix', 'must be true or false');
  }
  const hostPrefixPossible = secure && domain === undefined && path === '/';
  if (hostPrefixOption === true && !hostPrefixPossible) {
    fail('session.cookieOptions.hostPrefix', 'a __Host- cookie must be secure, have no domain and path /');
  }
  const cookieName = hostPrefixOption !== false && hostPrefixPossible ? `__Host-${baseName}` : baseName;

  return {
    strategy,
    expiresIn,
    updateAge,
    cookieName,
    cookie: { secure, httpOnly, sameSite, domain: domain as string | undefined, path },
    bearer: boolean('session.bearer', session.bearer, false),
    idleTimeout,
    freshAge,
    absoluteTimeout,
  };
}

export function resolveRoutes(value: unknown): ResolvedArrafAuthOptions['routes'] {
  if (value === undefined || value === true) return { enabled: true, path: 'auth' };
  if (value === false) return { enabled: false, path: 'auth' };
  const routes = objectAt('routes', value);
  const path = routes.path ?? 'auth';
  if (typeof path !== 'string') fail('routes.path', 'must be a string such as "auth"');
  const trimmed = path.replace(/^\/+|\/+$/g, '');
  // `.` and `..` segments pass the character check but would be resolved away by clients and proxies.
  if (!ROUTE_PATH.test(trimmed) || trimmed.split('/').some((segment) => segment === '.' || segment === '..')) {
    fail('routes.path', `must be a URL path such as "auth" or "api/auth" (got ${JSON.stringify(path)})`);
  }
  return { enabled: true, path: trimmed };
}

function integer(path: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(path, `must be a whole number from ${min} to ${max} (got ${JSON.stringify(value)})`);
  }
  return value;
}

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

function resolveOtp(value: unknown, defaultCountry: string): ResolvedArrafAuthOptions['otp'] {
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
  const limits = {
    maxSendsPerHour,
    // A smaller per-number cap lowers the per-client default with it rather than failing.
    maxSendsPerClientPerHour: integer(
      'otp.maxSendsPerClientPerHour',
      otp.maxSendsPerClientPerHour,
      Math.min(3, maxSendsPerHour),
      1,
      maxSendsPerHour,
    ),
    maxFailuresPerClient: integer(
      'otp.maxFailuresPerClient',
      otp.maxFailuresPerClient,
      Math.min(10, perDay),
      1,
      perDay,
    ),
    maxFailuresPerDay: perDay,
    maxFailuresPer30Days: integer(
      'otp.maxFailuresPer30Days',
      otp.maxFailuresPer30Days,
      Math.max(200, perDay),
      perDay,
      100_000,
    ),
    maxConsecutiveFailures: consecutive,
    delayAfterFailures: integer(
      'otp.delayAfterFailures',
      otp.delayAfterFailures,
      Math.min(10, consecutive - 1),
      0,
      consecutive - 1,
    ),
    initialDelay: integer('otp.initialDelay', otp.initialDelay, 30, 1, 86_400),
    maxDelay: 0,
  };
  limits.maxDelay = integer(
    'otp.maxDelay',
    otp.maxDelay,
    Math.max(3600, limits.initialDelay),
    limits.initialDelay,
    86_400,
  );
  return limits;
}

function resolvePhone(value: unknown): ResolvedArrafAuthOptions['phone'] {
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

function resolvePassword(value: unknown): ResolvedArrafAuthOptions['password'] {
  const password = objectAt('password', value);
  rejectUnknown('password', password, ['minLength', 'maxLength']);
  const minLength = integer('password.minLength', password.minLength, 8, 8, 256);
  const maxLength = integer('password.maxLength', password.maxLength, 128, 64, 1024);
  if (minLength > maxLength) fail('password.minLength', 'must not exceed password.maxLength');
  return { minLength, maxLength };
}

function resolveRateLimit(value: unknown): ResolvedArrafAuthOptions['rateLimit'] {
  const rateLimit = objectAt('rateLimit', value);
  rejectUnknown('rateLimit', rateLimit, ['storage', 'limits']);
  let storage: ResolvedArrafAuthOptions['rateLimit']['storage'] = { type: 'memory' };
  if (rateLimit.storage !== undefined && rateLimit.storage !== 'memory') {
    if (!isPlainObject(rateLimit.storage)) {
      fail('rateLimit.storage', "must be 'memory' or { redis: 'redis://host:6379' }");
    }
    rejectUnknown('rateLimit.storage', rateLimit.storage, ['redis', 'commandTimeout']);
    const url = rateLimit.storage.redis;
    let parsed: URL | undefined;
    try {
      parsed = typeof url === 'string' ? new URL(url) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!parsed || (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') || !parsed.hostname) {
      fail('rateLimit.storage.redis', 'must be a URL such as redis://127.0.0.1:6379 (rediss:// for TLS)');
    }
    const commandTimeout = integer(
      'rateLimit.storage.commandTimeout',
      rateLimit.storage.commandTimeout,
      DEFAULT_REDIS_COMMAND_TIMEOUT_MS,
      50,
      60_000,
    );
    storage = { type: 'redis', url: url as string, commandTimeout };
  }
  const overrides = objectAt('rateLimit.limits', rateLimit.limits);
  rejectUnknown('rateLimit.limits', overrides, [...RATE_LIMIT_RULES]);
  const limits = {} as Record<RateLimitRule, RateLimitRuleLimit>;
  for (const rule of RATE_LIMIT_RULES) {
    const path = `rateLimit.limits.${rule}`;
    const override = objectAt(path, overrides[rule]);
    rejectUnknown(path, override, ['limit', 'window']);
    limits[rule] = {
      limit: integer(`${path}.limit`, override.limit, DEFAULT_RATE_LIMITS[rule].limit, 1, 1_000_000),
      window: duration(`${path}.window`, override.window, DEFAULT_RATE_LIMITS[rule].window)!,
    };
  }
  return { storage, limits };
}

function functionsAt<T>(path: string, value: unknown, known: string[]): T {
  const record = objectAt(path, value);
  rejectUnknown(path, record, known);
  for (const [name, fn] of Object.entries(record)) {
    if (fn !== undefined && typeof fn !== 'function') fail(`${path}.${name}`, 'must be a function');
  }
  return record as T;
}

const KNOWN_KEYS = [
  'secret',
  'session',
  'hooks',
  'callbacks',
  'otp',
  'phone',
  'sms',
  'password',
  'rateLimit',
  'providers',
  'trustedOrigins',
  'allowMissingOrigin',
  'routes',
  'appName',
  'appUrl',
];
const KNOWN_SESSION_KEYS = [
  'strategy',
  'expiresIn',
  'updateAge',
  'cookieName',
  'cookieOptions',
  'bearer',
  'idleTimeout',
  'freshAge',
  'absoluteTimeout',
];
const KNOWN_COOKIE_KEYS = ['secure', 'httpOnly', 'sameSite', 'domain', 'path', 'hostPrefix'];
const KNOWN_HOOKS = ['beforeSignUp', 'afterSignUp', 'beforeSignIn', 'afterSignIn', 'beforeSignOut', 'afterOtpVerified'];

function rejectUnknown(path: string, value: Record<string, unknown>, known: string[]): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) fail(path ? `${path}.${key}` : key, 'is not a known option');
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

/**
 * Validates the options once at boot and returns them with every default applied.
 * Throws {@link ArrafAuthConfigError} naming the first bad option.
 */
export function resolveArrafAuthOptions(input: ArrafAuthOptions): ResolvedArrafAuthOptions {
  if (!isPlainObject(input)) fail('options', 'must be an object');
  rejectUnknown('', input, KNOWN_KEYS);
  rejectUnknown('session', objectAt('session', input.session), KNOWN_SESSION_KEYS);
  rejectUnknown(
    'session.cookieOptions',
    objectAt('session.cookieOptions', input.session?.cookieOptions),
    KNOWN_COOKIE_KEYS,
  );

  const hooks = functionsAt<ResolvedArrafAuthOptions['hooks']>('hooks', input.hooks, KNOWN_HOOKS);
  const callbacks = functionsAt<ResolvedArrafAuthOptions['callbacks']>('callbacks', input.callbacks, [
    'onVerifyEmail',
    'onForgotPassword',
    'onPasswordChanged',
  ]);
  if (input.sms !== undefined && typeof (input.sms as { send?: unknown } | null)?.send !== 'function') {
    fail('sms', 'must be an SmsProvider: an object with a send({ to, code, message }) method');
  }

  const appUrl = input.appUrl === undefined ? undefined : origin('appUrl', input.appUrl);
  if (input.trustedOrigins !== undefined && !Array.isArray(input.trustedOrigins)) {
    fail('trustedOrigins', 'must be an array of origins');
  }
  const trusted = (input.trustedOrigins ?? []).map((o, i) => origin(`trustedOrigins[${i}]`, o));
  if (input.appName !== undefined && (typeof input.appName !== 'string' || input.appName.trim() === '')) {
    fail('appName', 'must be a non-empty string');
  }

  if (input.allowMissingOrigin !== undefined && typeof input.allowMissingOrigin !== 'boolean') {
    fail('allowMissingOrigin', 'must be a boolean');
  }

  const phone = resolvePhone(input.phone);
  return {
    secrets: resolveSecrets(input.secret),
    session: resolveSession(input.session),
    hooks,
    callbacks,
    otp: resolveOtp(input.otp, phone.defaultCountry),
    phone,
    sms: input.sms,
    password: resolvePassword(input.password),
    rateLimit: resolveRateLimit(input.rateLimit),
    providers: resolveOAuthProviders(input.providers, fail),
    trustedOrigins: [...new Set([...(appUrl ? [appUrl] : []), ...trusted])],
    allowMissingOrigin: input.allowMissingOrigin ?? false,
    routes: resolveRoutes(input.routes),
    appName: input.appName ?? 'Arraf',
    appUrl,
  };
}
