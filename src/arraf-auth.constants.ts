/** Injection token of the resolved, fully-defaulted {@link ResolvedArrafAuthOptions}. */
export const ARRAF_AUTH_OPTIONS = Symbol('ARRAF_AUTH:OPTIONS');

/** Injection token of the {@link SmsProvider} used to send one-time codes. */
export const SMS_PROVIDER = Symbol('ARRAF_AUTH:SMS_PROVIDER');

/** Injection token of the {@link RateLimitStore} that holds OTP and sign-in counters. */
export const RATE_LIMIT_STORE = Symbol('ARRAF_AUTH:RATE_LIMIT_STORE');

/**
 * Injection token of the {@link SessionStore} that reads and writes session rows. The default is
 * `TypeOrmSessionStore`; wrap or replace it with `overrideProvider(SESSION_STORE)` or a provider of
 * your own (a cache in front of the database, for example).
 */
export const SESSION_STORE = Symbol('ARRAF_AUTH:SESSION_STORE');

/** Injection token of the {@link SessionCodec} of the configured strategy (JWT or random token). */
export const SESSION_CODEC = Symbol('ARRAF_AUTH:SESSION_CODEC');

/** Metadata key set by {@link Public} to let a route skip a global {@link SessionGuard}. */
export const IS_PUBLIC_KEY = 'ARRAF_AUTH:IS_PUBLIC';

/** Metadata key set by {@link RequireFreshSession}. */
export const REQUIRE_FRESH_KEY = 'ARRAF_AUTH:REQUIRE_FRESH';

/** Table names. The user table is looked up by this name so an application can extend `User`. */
export const USER_TABLE = 'users';
export const SESSION_TABLE = 'sessions';
export const ACCOUNT_TABLE = 'accounts';
export const VERIFICATION_TABLE = 'verifications';

/** Where the guard leaves the session for {@link CurrentSession} on the request object. */
export const REQUEST_SESSION_KEY = 'arrafSession';
