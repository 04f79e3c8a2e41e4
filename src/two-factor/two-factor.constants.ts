import type { VerificationPolicy } from '../verification/verification.interfaces.js';

/** Table names of the second-factor entities. */
export const TWO_FACTOR_TABLE = 'two_factors';
export const TWO_FACTOR_PROOF_TABLE = 'two_factor_proofs';

/** Metadata key set by {@link RequireTwoFactor}. */
export const REQUIRE_TWO_FACTOR_KEY = 'ARRAF_AUTH:REQUIRE_TWO_FACTOR';
/** Metadata key set by {@link AllowWithoutTwoFactor}: reachable while `twoFactor.required` enrolment is pending. */
export const ALLOW_WITHOUT_TWO_FACTOR_KEY = 'ARRAF_AUTH:ALLOW_WITHOUT_TWO_FACTOR';

/** The methods a pending sign-in can be completed with (`passkey` when the account has one). */
export type TwoFactorMethod = 'totp' | 'backup_code' | 'passkey';

/** RFC 6238 parameters every authenticator app understands. */
export const TOTP_PERIOD = 30;
export const TOTP_DIGITS = 6;
/** Steps accepted on either side of now (clock drift). */
export const TOTP_WINDOW = 1;

/** Backup codes per set. */
export const BACKUP_CODE_COUNT = 10;

/** Lifetime of the pending state between the first and the second factor (5 minutes). */
export const PENDING_TTL_SECONDS = 300;
/** Codes one pending state allows before it dies (like a phone code's `maxAttempts`). */
export const PENDING_MAX_ATTEMPTS = 5;

/** Wrong second-factor codes a user may send per hour across pending states, step-up and disable. */
export const TWO_FACTOR_FAILURE_BUDGET = { limit: 15, windowSeconds: 3600 } as const;

/**
 * The pending state: a 256-bit token in its own cookie, stored as SHA-256 by the verification
 * service. Its identifier is `<userId>:<first factor>`, so a new sign-in replaces the user's older one.
 */
export const PENDING_POLICY: VerificationPolicy = {
  type: 'two-factor:pending',
  kind: 'link',
  length: 32,
  ttlSeconds: PENDING_TTL_SECONDS,
  maxAttempts: PENDING_MAX_ATTEMPTS,
  budget: TWO_FACTOR_FAILURE_BUDGET,
};

/**
 * One backup code: ten digits (33 bits) HMAC'd at rest by the verification service, bound to its
 * slot (`<userId>:<slot>`), single use. The person types the slot digit and the ten digits; the
 * failure budget it shares with TOTP keeps online guessing far below NIST's 20-bit floor per guess.
 * Wrong guesses never use a code up: a per-code limit would let whoever holds the password destroy
 * the owner's recovery codes (a few guesses a slot) and adds nothing the budget does not bound.
 */
export const BACKUP_CODE_POLICY: VerificationPolicy = {
  type: 'two-factor:backup-code',
  kind: 'code',
  length: 10,
  // Backup codes do not expire; ten years stands in for "never" in a NOT NULL column.
  ttlSeconds: 10 * 365 * 24 * 3600,
  // No per-code limit: the largest value of the INT attempts column stands for "never used up".
  maxAttempts: 2_147_483_647,
  budget: TWO_FACTOR_FAILURE_BUDGET,
};

/** The failure-budget scope shared by every second-factor check of a user. */
export function twoFactorBudgetScope(userId: string): string {
  return `two-factor:${userId}`;
}

/** Rate-limit store key counting the codes sent against one pending state. */
export function pendingAttemptsKey(pendingId: string): string {
  return `two-factor-pending:${pendingId}`;
}
