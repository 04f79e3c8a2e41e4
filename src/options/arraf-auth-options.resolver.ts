import { resolveOAuthProviders } from '../oauth/oauth-providers.resolver.js';
import type { ArrafAuthOptions, ResolvedArrafAuthOptions } from './arraf-auth-options.interface.js';
import { fail, functionsAt, integer, isPlainObject, objectAt, origin, rejectUnknown } from './option-checks.js';
import { checkSmsProvider, resolveOtp, resolvePhone } from './otp-options.resolver.js';
import { resolveRateLimit } from './rate-limit-options.resolver.js';
import { resolveRoutes } from './route-options.resolver.js';
import { resolveSecrets } from './secret-options.resolver.js';
import { rejectUnknownSessionKeys, resolveSession } from './session-options.resolver.js';
import { resolveTwoFactorOptions } from '../two-factor/two-factor.options.js';
import { resolveRetentionOptions } from '../account-data/retention.options.js';

// Each concern resolves in the file beside this one; these stay importable from here.
export { ArrafAuthConfigError } from './option-checks.js';
export { refuseConsoleSmsInProduction } from './otp-options.resolver.js';
export { resolveRoutes } from './route-options.resolver.js';

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
  'twoFactor',
  'retention',
];
const KNOWN_HOOKS = ['beforeSignUp', 'afterSignUp', 'beforeSignIn', 'afterSignIn', 'beforeSignOut', 'afterOtpVerified'];
const KNOWN_CALLBACKS = ['onVerifyEmail', 'onForgotPassword', 'onPasswordChanged', 'onEmailChanged'];

function resolvePassword(value: unknown): ResolvedArrafAuthOptions['password'] {
  const password = objectAt('password', value);
  rejectUnknown('password', password, ['minLength', 'maxLength']);
  const minLength = integer('password.minLength', password.minLength, 8, 8, 256);
  const maxLength = integer('password.maxLength', password.maxLength, 128, 64, 1024);
  if (minLength > maxLength) fail('password.minLength', 'must not exceed password.maxLength');
  return { minLength, maxLength };
}

/** `trustedOrigins` plus the origin of `appUrl`, each reduced to its origin, without repeats. */
function resolveTrustedOrigins(input: ArrafAuthOptions, appUrl: string | undefined): string[] {
  if (input.trustedOrigins !== undefined && !Array.isArray(input.trustedOrigins)) {
    fail('trustedOrigins', 'must be an array of origins');
  }
  const trusted = (input.trustedOrigins ?? []).map((o, i) => origin(`trustedOrigins[${i}]`, o));
  return [...new Set([...(appUrl ? [appUrl] : []), ...trusted])];
}

/**
 * Validates the options once at boot and returns them with every default applied.
 * Throws {@link ArrafAuthConfigError} naming the first bad option.
 */
export function resolveArrafAuthOptions(input: ArrafAuthOptions): ResolvedArrafAuthOptions {
  if (!isPlainObject(input)) fail('options', 'must be an object');
  rejectUnknown('', input, KNOWN_KEYS);
  rejectUnknownSessionKeys(input.session);

  const hooks = functionsAt<ResolvedArrafAuthOptions['hooks']>('hooks', input.hooks, KNOWN_HOOKS);
  const callbacks = functionsAt<ResolvedArrafAuthOptions['callbacks']>('callbacks', input.callbacks, KNOWN_CALLBACKS);
  checkSmsProvider(input.sms);
  const appUrl = input.appUrl === undefined ? undefined : origin('appUrl', input.appUrl);
  const trustedOrigins = resolveTrustedOrigins(input, appUrl);
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
    trustedOrigins,
    allowMissingOrigin: input.allowMissingOrigin ?? false,
    routes: resolveRoutes(input.routes),
    appName: input.appName ?? 'Arraf',
    appUrl,
    twoFactor: resolveTwoFactorOptions(input.twoFactor, appUrl),
    retention: resolveRetentionOptions(input.retention),
  };
}
