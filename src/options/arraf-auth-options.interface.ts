import type { RemovedSignInMethod } from '../accounts/sign-in-methods.service.js';
import type { ArrafAuthTwoFactorOptions, ResolvedTwoFactorOptions } from '../two-factor/two-factor.options.js';
import type { Session } from '../entities/session.entity.js';
import type { User } from '../entities/user.entity.js';
import type { OAuthProviderConfig } from '../oauth/oauth-provider.interface.js';
import type { RateLimitRule, RateLimitRuleLimit } from '../rate-limit/rate-limit.constants.js';
import type { OtpDeliveryOptions, ResolvedOtpDeliveryOptions } from '../otp/otp-delivery.options.js';
import type { SmsProvider } from '../sms/sms-provider.interface.js';
import type { ArrafAuthSessionCacheOptions, ResolvedSessionCacheOptions } from '../session/session-cache.options.js';
import type { ArrafAuthRetentionOptions, ResolvedRetentionOptions } from '../account-data/retention.options.js';

/** How the session cookie is written. */
export interface ArrafAuthCookieOptions {
  /** Send the cookie over HTTPS only. Turn off only for plain-HTTP development. @default true */
  secure?: boolean;
  /** Hide the cookie from JavaScript. @default true */
  httpOnly?: boolean;
  /** Cross-site policy. `'none'` requires `secure`. @default 'lax' */
  sameSite?: 'strict' | 'lax' | 'none';
  /** Share the cookie with subdomains. Setting it disables the `__Host-` prefix. @default undefined */
  domain?: string;
  /** Cookie path. @default '/' */
  path?: string;
  /**
   * Name the cookie `__Host-<cookieName>` when it is `secure`, has no `domain` and path `/`, so
   * subdomains cannot plant or overwrite it. @default true
   */
  hostPrefix?: boolean;
}

/** Session settings. Durations are seconds or strings such as `'15m'`, `'12h'`, `'30d'`. */
export interface ArrafAuthSessionOptions {
  /**
   * `'jwt'`: the cookie holds a signed JWT naming the session; `'database'`: the cookie holds the
   * random token. Both keep a session row, so revocation works in both. @default 'jwt'
   */
  strategy?: 'jwt' | 'database';
  /** Absolute lifetime of a session (extended by sliding renewal). @default '30d' */
  expiresIn?: string | number;
  /** A session older than this since its last renewal is extended and its cookie re-issued. @default '1d' */
  updateAge?: string | number;
  /** Cookie name (without the `__Host-` prefix). @default 'auth_session' */
  cookieName?: string;
  /** Cookie attributes. */
  cookieOptions?: ArrafAuthCookieOptions;
  /** Also accept `Authorization: Bearer <token>` and return the token in responses. @default false */
  bearer?: boolean;
  /** End a session unused for this long. @default undefined (no idle timeout) */
  idleTimeout?: string | number;
  /** Sensitive routes need a sign-in at most this old, else 403 `SESSION_NOT_FRESH`. @default '1d' */
  freshAge?: string | number;
  /**
   * Hard ceiling on a session's life from sign-in: sliding renewal never extends a session past
   * `createdAt + absoluteTimeout`, after which the user signs in again. Must be at least `expiresIn`.
   * @default '90d'
   */
  absoluteTimeout?: string | number;
  /**
   * Cache validated sessions in memory (`true` for the defaults), so a guarded request needs no
   * database read; every revocation reaches every instance through Redis or PostgreSQL, and the
   * cache switches itself off while that channel is down. @default false
   */
  cache?: boolean | ArrafAuthSessionCacheOptions;
}

type Hook<T> = (context: T) => void | Promise<void>;

/**
 * Hooks the library calls around its flows, in this order on a first sign-in: `beforeSignUp`,
 * `afterSignUp`, `beforeSignIn`, `afterSignIn` (then `afterOtpVerified` for phone codes).
 * A hook that throws stops the flow and no session is left: an `HttpException` it throws is
 * answered as is, anything else as 403 `HOOK_REJECTED`.
 */
export interface ArrafAuthHooks {
  /** Before a new user is stored; `user` is not saved yet. */
  beforeSignUp?: Hook<{ user: Partial<User>; method: SignInMethod }>;
  /** After a new user is stored, before its first session. */
  afterSignUp?: Hook<{ user: User; method: SignInMethod }>;
  /** Before a session is created for a successful sign-in. */
  beforeSignIn?: Hook<{ user: User; method: SignInMethod }>;
  /** After the session is created; throwing revokes it. */
  afterSignIn?: Hook<{ user: User; session: Session; method: SignInMethod }>;
  /** Before a session is revoked by `POST /auth/sign-out`. */
  beforeSignOut?: Hook<{ user: User; session: Session }>;
  /** After a phone code was verified and the session created; throwing revokes it. */
  afterOtpVerified?: Hook<{ user: User; session: Session; phone: string; isNewUser: boolean }>;
}

/** How a user signed in. */
export type SignInMethod = 'phone' | 'email' | 'oauth' | 'passkey';

/** What the application needs to deliver a code or link by email (or SMS) itself. */
export interface VerificationDelivery {
  user: User;
  /** The email address or E.164 phone number the secret is bound to. */
  identifier: string;
  /** `'otp'`: a numeric `code` to type; `'link'`: a `token` to put in a URL (`url` when `appUrl` is set). */
  mode: 'otp' | 'link';
  code?: string;
  token?: string;
  url?: string;
  expiresAt: Date;
}

/** Callbacks that deliver messages the library cannot send itself (email). A throw fails the request cleanly. */
export interface ArrafAuthCallbacks {
  /** Send the email verification code or link; also the code proving a new address (`POST account/email/send`). */
  onVerifyEmail?: (delivery: VerificationDelivery) => void | Promise<void>;
  /** Send the password reset code or link (email method; the phone method uses SMS). */
  onForgotPassword?: (delivery: VerificationDelivery) => void | Promise<void>;
  /**
   * Tell the user their password changed (after a change or a reset). `removedMethods` lists the
   * sign-in methods a reset took off the account because its email had not been proven before
   * (empty otherwise): tell the owner, they may not recognise them.
   */
  onPasswordChanged?: (context: {
    user: User;
    reason: 'change' | 'reset';
    removedMethods: RemovedSignInMethod[];
  }) => void | Promise<void>;
  /** Tell the previous address the account's email changed (`POST account/email`); a failure is only logged. */
  onEmailChanged?: (context: { user: User; previousEmail: string; newEmail: string }) => void | Promise<void>;
}

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
