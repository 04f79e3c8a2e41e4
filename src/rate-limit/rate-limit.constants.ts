/**
 * The library's rate limits, one rule per route and subject. `:ip` rules count per client address
 * (IPv6 per /64); `:identifier` rules per email address or phone number, whether an account has it
 * or not (so a 429 says nothing about accounts); `:account` rules per account.
 */
export const RATE_LIMIT_RULES = [
  'otp-send:ip',
  'otp-verify:ip',
  'sign-in:ip',
  'sign-in:account',
  'sign-up:ip',
  'sign-up:identifier',
  'forgot-password:ip',
  'forgot-password:identifier',
  'reset-password:ip',
  'verify-email:ip',
  'verify-email-send:account',
  'change-password:account',
  'oauth-sign-in:ip',
  'oauth-callback:ip',
  'otp-receipt:ip',
  'account-delete:account',
  'account-methods:account',
] as const;

/** A name of {@link RATE_LIMIT_RULES}, the key of `rateLimit.limits`. */
export type RateLimitRule = (typeof RATE_LIMIT_RULES)[number];

/** How many requests a rule lets through per fixed window of `window` seconds. */
export interface RateLimitRuleLimit {
  limit: number;
  /** Seconds. */
  window: number;
}

/**
 * Defaults. Per-address limits are generous on purpose: mobile carriers put many subscribers
 * behind one address (CGNAT), so per-number, per-email and per-account limits do the real work.
 * `oauth-sign-in:ip` and `oauth-callback:ip` (60 per 10 min each) bound the OAuth state rows and
 * token-endpoint calls one address can cause.
 * `sign-in:account` is the ceiling of R1: at most 100 failed email sign-ins per account per hour,
 * whatever the addresses they come from; a successful sign-in or a password reset clears it.
 */
export const DEFAULT_RATE_LIMITS: Readonly<Record<RateLimitRule, RateLimitRuleLimit>> = {
  'otp-send:ip': { limit: 30, window: 600 },
  'otp-verify:ip': { limit: 60, window: 600 },
  'sign-in:ip': { limit: 60, window: 600 },
  'sign-in:account': { limit: 100, window: 3600 },
  'sign-up:ip': { limit: 60, window: 600 },
  'sign-up:identifier': { limit: 5, window: 3600 },
  'forgot-password:ip': { limit: 60, window: 600 },
  'forgot-password:identifier': { limit: 5, window: 3600 },
  'reset-password:ip': { limit: 100, window: 600 },
  'verify-email:ip': { limit: 60, window: 600 },
  'verify-email-send:account': { limit: 5, window: 3600 },
  'change-password:account': { limit: 10, window: 3600 },
  // Each OAuth start stores a state row and each callback calls the provider's token endpoint with
  // the client secret: 60 per 10 minutes per address is far above a person's retries.
  'oauth-sign-in:ip': { limit: 60, window: 600 },
  'oauth-callback:ip': { limit: 60, window: 600 },
  // Delivery receipts come from the vendor's few addresses, one per message sent.
  'otp-receipt:ip': { limit: 1000, window: 600 },
  // Each attempt checks a password (argon2id) or a code: a stolen fresh session gets few guesses.
  'account-delete:account': { limit: 10, window: 3600 },
  // Adding, changing and removing sign-in methods (codes sent, passwords checked) per signed-in account.
  'account-methods:account': { limit: 30, window: 3600 },
};

/** Bounds of a Redis command: rate-limited routes answer 503 after this rather than hang. */
export const DEFAULT_REDIS_COMMAND_TIMEOUT_MS = 1000;
