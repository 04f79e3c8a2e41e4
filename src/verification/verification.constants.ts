/**
 * The one identifier scheme of the `verifications` table. A row's `type` is `<channel>:<purpose>`
 * and its `identifier` is what the secret was sent to (an E.164 number, or an account bound to an
 * address or a number: {@link accountBound}). Codes are stored as an HMAC over type, identifier and code, and every lookup filters on
 * the type, so a secret only ever works for the channel, purpose and recipient it was issued for.
 */
export const VERIFICATION_TYPES = {
  /** SMS code that signs a phone in. */
  otpSignIn: 'otp:sign-in',
  /** SMS code that resets the password of a verified phone. */
  otpResetPassword: 'otp:reset-password',
  /** SMS code that confirms deleting the account of a verified phone (`DELETE /auth/account`). */
  otpAccountDelete: 'otp:account-delete',
  /** Emailed code or link that resets a password. */
  emailResetPassword: 'email:reset-password',
  /** Emailed code or link that proves an address. */
  emailVerifyEmail: 'email:verify-email',
  /** SMS code that proves a new number before it replaces the account's phone. */
  otpChangePhone: 'otp:change-phone',
  /** Emailed code that proves a new address before it replaces the account's email. */
  emailChangeEmail: 'email:change-email',
} as const;

/** A `type` of {@link VERIFICATION_TYPES}; other `<channel>:<purpose>` strings are allowed for new secrets. */
export type VerificationType = (typeof VERIFICATION_TYPES)[keyof typeof VERIFICATION_TYPES] | `${string}:${string}`;

/**
 * Wrong guesses a recipient may make per window across all of its codes: this many times a code's
 * `maxAttempts` (3 × 5 = 15 an hour by default), so asking for a new code never refills the budget.
 */
export const VERIFICATION_FAILURE_BUDGET_FACTOR = 3;
/** Seconds of the failure-budget window. */
export const VERIFICATION_FAILURE_WINDOW_SECONDS = 3600;

/** Lifetime of an emailed code or link (SPEC: 15 minutes). */
export const EMAIL_TOKEN_TTL_SECONDS = 15 * 60;
/** Digits of an emailed code. */
export const EMAIL_CODE_LENGTH = 6;
/** Random bytes of an emailed link token (256 bits). */
export const EMAIL_LINK_BYTES = 32;

/** `deriveKey` purpose of the HMAC key of stored codes: the raw secret keys nothing itself. */
export const VERIFICATION_CODE_KEY_PURPOSE = 'verification-code';

/** Rate-limit store key of a recipient's failure budget. */
export function failureBudgetKey(scope: string): string {
  return `verification-failures:${scope}`;
}

/**
 * The identifier of a secret bound to an account as well as to where it was sent
 * (`<userId>:<recipient>`): only a check for the same account finds it, and it is stored (HMAC) over
 * both. A change-phone code is `<userId>:<E.164>`; an emailed secret `<userId>:<sha256(email)>`.
 */
export function accountBound(userId: string, recipient: string): string {
  return `${userId}:${recipient}`;
}
