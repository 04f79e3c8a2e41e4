import type { ArrafAuthTwoFactorOptions, ResolvedTwoFactorOptions } from '../two-factor/two-factor.options.js';
import type { OAuthProviderConfig } from '../oauth/oauth-provider.interface.js';
import type { RateLimitRule, RateLimitRuleLimit } from '../rate-limit/rate-limit.constants.js';
import type { OtpDeliveryOptions, ResolvedOtpDeliveryOptions } from '../otp/otp-delivery.options.js';
import type { SmsProvider } from '../sms/sms-provider.interface.js';
import type { ArrafAuthRetentionOptions, ResolvedRetentionOptions } from '../account-data/retention.options.js';
import type { ResolvedSessionCacheOptions } from '../session/session-cache.options.js';
import type { ArrafAuthCallbacks, ArrafAuthHooks } from './hooks-options.interface.js';
import type { ArrafAuthOtpOptions, ArrafAuthPhoneOptions } from './otp-options.interface.js';
import type { ArrafAuthSessionOptions } from './session-options.interface.js';

// The options are declared by concern, one file each (sessions, hooks and callbacks, phone codes);
// this file gathers them into `ArrafAuthOptions` and its resolved form, and re-exports them so the
// rest of the library imports every option type from here.
export type { ArrafAuthCookieOptions, ArrafAuthSessionOptions } from './session-options.interface.js';
export type {
  ArrafAuthCallbacks,
  ArrafAuthHooks,
  SignInMethod,
  VerificationDelivery,
} from './hooks-options.interface.js';
export type { ArrafAuthOtpOptions, ArrafAuthPhoneOptions } from './otp-options.interface.js';

/** Password rules, counted in Unicode code points after NFKC. */
export interface ArrafAuthPasswordOptions {
  /** @default 8 */
  minLength?: number;
  /** @default 128 */
  maxLength?: number;
}

/** Where rate-limit counters live and how high the limits are. */
export interface ArrafAuthRateLimitOptions {
  /**
   * `'memory'`: counters in this process (one instance only). `{ redis: 'redis://host:6379' }`:
   * counters in Redis, shared by every instance (needs the `ioredis` package). When Redis is
   * unreachable, rate-limited routes answer 503 `SERVICE_UNAVAILABLE` (fail closed) after at most
   * `commandTimeout` milliseconds (default 1000). Or provide the `RATE_LIMIT_STORE` token.
   * @default 'memory'
   */
  storage?: 'memory' | { redis: string; commandTimeout?: number };
  /**
   * Overrides of the built-in limits, by rule: `{ 'sign-in:account': { limit: 20, window: '1h' } }`.
   * `window` is seconds or a duration string. See `DEFAULT_RATE_LIMITS` for every rule.
   * @default DEFAULT_RATE_LIMITS
   */
  limits?: Partial<Record<RateLimitRule, { limit?: number; window?: string | number }>>;
}

/** Options of {@link ArrafAuthModule.forRoot}. Validated once at boot. */
export interface ArrafAuthOptions {
  /**
   * Secret(s) of at least 32 characters. The first signs; all verify, so a new secret can be put
   * first while tokens signed with the old one stay valid. Generate one with `npx arraf-auth secret`.
   */
  secret: string | string[];
  /** Session strategy, lifetimes and cookie. */
  session?: ArrafAuthSessionOptions;
  /** Hooks around the flows. */
  hooks?: ArrafAuthHooks;
  /** Delivery callbacks for email verification, password reset and change notices. */
  callbacks?: ArrafAuthCallbacks;
  /** One-time SMS codes. */
  otp?: ArrafAuthOtpOptions;
  /** Phone number handling. */
  phone?: ArrafAuthPhoneOptions;
  /** SMS provider; or provide the `SMS_PROVIDER` token. @default ConsoleSmsProvider */
  sms?: SmsProvider;
  /** Password rules. */
  password?: ArrafAuthPasswordOptions;
  /** Rate-limit storage and limits. */
  rateLimit?: ArrafAuthRateLimitOptions;
  /**
   * OAuth / OpenID Connect sign-in providers, each served at `GET /auth/sign-in/<id>` and
   * `GET /auth/callback/<id>`. Validated at boot.
   * @example providers: [google({ clientId, clientSecret, redirectUri: 'https://app.example/auth/callback/google' })]
   * @default []
   */
  providers?: OAuthProviderConfig[];
  /**
   * Origins (scheme://host[:port]) allowed to make state-changing requests with the session cookie,
   * besides `appUrl`. @default []
   */
  trustedOrigins?: string[];
  /**
   * Whether a state-changing request that carries the session cookie but neither `Origin` nor
   * `Referer` is let through. Browsers send `Origin` on every cross-site POST, PUT, PATCH and
   * DELETE, so by default such a request is refused (403 `INVALID_ORIGIN`): only a client that
   * keeps cookies without being a browser (a native app's cookie jar, a script) sends none. Set it
   * to `true` for such clients, or give them `session.bearer` instead. @default false
   */
  allowMissingOrigin?: boolean;
  /**
   * Mount the built-in routes (`true`), not at all (`false`), or under another prefix.
   * With `forRootAsync`, pass `routes` next to `useFactory`: controllers are registered before the
   * factory runs. @default true (prefix 'auth')
   */
  routes?: boolean | { path?: string };
  /** Shown in SMS texts and emails. @default 'Arraf' */
  appName?: string;
  /** The application's public URL; its origin is trusted for state-changing requests. */
  appUrl?: string;
  /** Second factors (TOTP, backup codes), step-up, mandatory enrolment and passkeys. */
  twoFactor?: ArrafAuthTwoFactorOptions;
  /** What `ArrafAuthRetention.apply()` deletes or erases, and after how long. */
  retention?: ArrafAuthRetentionOptions;
}

/** The options after validation, every default applied. The rest of the library reads only this. */
export interface ResolvedArrafAuthOptions {
  secrets: readonly string[];
  session: {
    strategy: 'jwt' | 'database';
    expiresIn: number;
    updateAge: number;
    /** The cookie's full name, `__Host-` prefix included where it applies. */
    cookieName: string;
    cookie: {
      secure: boolean;
      httpOnly: boolean;
      sameSite: 'strict' | 'lax' | 'none';
      domain: string | undefined;
      path: string;
    };
    bearer: boolean;
    idleTimeout: number | undefined;
    freshAge: number;
    /** Seconds from sign-in after which renewal stops and the session ends. */
    absoluteTimeout: number;
    cache: ResolvedSessionCacheOptions;
  };
  hooks: ArrafAuthHooks;
  callbacks: ArrafAuthCallbacks;
  otp: Required<Omit<ArrafAuthOtpOptions, 'messages' | keyof OtpDeliveryOptions>> & {
    messages: { ar: string; en: string };
  } & ResolvedOtpDeliveryOptions;
  phone: { defaultCountry: string; allowedCountries: readonly string[] | undefined };
  sms: SmsProvider | undefined;
  password: Required<ArrafAuthPasswordOptions>;
  rateLimit: {
    storage: { type: 'memory' } | { type: 'redis'; url: string; commandTimeout: number };
    limits: Readonly<Record<RateLimitRule, RateLimitRuleLimit>>;
  };
  /** Validated OAuth providers, every default applied. */
  providers: readonly OAuthProviderConfig[];
  /** `appUrl`'s origin and `trustedOrigins`, normalised. */
  trustedOrigins: readonly string[];
  allowMissingOrigin: boolean;
  routes: { enabled: boolean; path: string };
  appName: string;
  appUrl: string | undefined;
  twoFactor: ResolvedTwoFactorOptions;
  retention: ResolvedRetentionOptions;
}
