/** What a one-time code may be used for; a code only works for the purpose it was sent for. */
export type OtpPurpose = 'sign-in' | 'reset-password' | 'change-phone' | 'account-delete';

export const OTP_PURPOSES: readonly OtpPurpose[] = ['sign-in', 'reset-password', 'change-phone', 'account-delete'];

/** Name of the phone + code Passport strategy, for `AuthGuard(OTP_STRATEGY_NAME)`. */
export const OTP_STRATEGY_NAME = 'arraf-otp';

/** Window of `otp.maxSendsPerHour` and `otp.maxSendsPerClientPerHour`. */
export const OTP_SEND_WINDOW_SECONDS = 3600;

/** Window of `otp.maxFailuresPerClient` and `otp.maxFailuresPerDay`. */
export const OTP_DAY_SECONDS = 24 * 3600;

/** Window of `otp.maxFailuresPer30Days` and `otp.maxConsecutiveFailures`. */
export const OTP_30_DAYS_SECONDS = 30 * OTP_DAY_SECONDS;

/**
 * How long after a send its client may be told that the code it asked for expired or is used up:
 * beyond the code's lifetime, so a late attempt still hears "expired" rather than "wrong".
 */
export const OTP_REQUESTER_GRACE_SECONDS = 3600;

/** Longest `name` accepted on a first phone sign-in. */
export const OTP_MAX_NAME_LENGTH = 100;

/**
 * Rate-limit store keys and budget scope. Per number across purposes: an SMS costs the same whatever
 * it is for, and alternating purposes must not double the guesses a number gets. `client` is an
 * address bucket (IPv4, or IPv6 per /64).
 */
export const otpKeys = {
  cooldown: (phone: string, client: string) => `otp-cooldown:${phone}:${client}`,
  sends: (phone: string) => `otp-sends:${phone}`,
  clientSends: (phone: string, client: string) => `otp-sends:${phone}:client:${client}`,
  /** Present while `client` asked for a code of `purpose` for `phone` recently. */
  requester: (purpose: string, phone: string, client: string) => `otp-requester:${purpose}:${phone}:${client}`,
  budgetScope: (phone: string) => `otp:${phone}`,
  /** Checks of a reviewer number's fixed code (`otp.testNumbers`) in UTC day `day` (days since the epoch). */
  reviewerAttempts: (phone: string, day: number) => `otp-reviewer-attempts:${phone}:${day}`,
  /** Right fixed codes of a reviewer number in UTC day `day`: each gives its attempt back. */
  reviewerSuccesses: (phone: string, day: number) => `otp-reviewer-successes:${phone}:${day}`,
};

/** Rate-limit store keys of the SMS-pumping guard, by number prefix (`+96655`) or global. */
export const pumpingKeys = {
  velocity: (prefix: string) => `otp-prefix:${prefix}`,
  sent: (prefix: string) => `otp-prefix-sent:${prefix}`,
  verified: (prefix: string) => `otp-prefix-verified:${prefix}`,
  paused: (prefix: string) => `otp-prefix-paused:${prefix}`,
  /** Present while the current sample has tripped the breaker: it is not judged again after the pause. */
  judged: (prefix: string) => `otp-prefix-judged:${prefix}`,
  budget: 'otp-daily-budget',
};
