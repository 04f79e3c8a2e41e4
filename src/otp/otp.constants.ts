/** What a one-time code may be used for; a code only works for the purpose it was sent for. */
export type OtpPurpose = 'sign-in' | 'reset-password';

export const OTP_PURPOSES: readonly OtpPurpose[] = ['sign-in', 'reset-password'];

/** Name of the phone + code Passport strategy, for `AuthGuard(OTP_STRATEGY_NAME)`. */
export const OTP_STRATEGY_NAME = 'arraf-otp';

/** Window of `otp.maxSendsPerHour`. */
export const OTP_SEND_WINDOW_SECONDS = 3600;

/** Longest `name` accepted on a first phone sign-in. */
export const OTP_MAX_NAME_LENGTH = 100;

/**
 * Rate-limit store keys and budget scope. Per number across purposes: an SMS costs the same whatever
 * it is for, and alternating purposes must not double the guesses a number gets.
 */
export const otpKeys = {
  cooldown: (phone: string) => `otp-cooldown:${phone}`,
  sends: (phone: string) => `otp-sends:${phone}`,
  budgetScope: (phone: string) => `otp:${phone}`,
};
