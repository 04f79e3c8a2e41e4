import { sha256 } from '../crypto/crypto.util.js';
import {
  EMAIL_CODE_LENGTH,
  EMAIL_LINK_BYTES,
  EMAIL_TOKEN_TTL_SECONDS,
  VERIFICATION_FAILURE_BUDGET_FACTOR,
  VERIFICATION_FAILURE_WINDOW_SECONDS,
  VERIFICATION_TYPES,
} from './verification.constants.js';
import type { VerificationPolicy, VerificationSubject } from './verification.interfaces.js';

/** What an emailed secret may be used for: a `reset-password` secret cannot verify an email, and back. */
export type EmailTokenPurpose = 'reset-password' | 'verify-email' | 'change-email';

const EMAIL_TYPES = {
  'reset-password': VERIFICATION_TYPES.emailResetPassword,
  'verify-email': VERIFICATION_TYPES.emailVerifyEmail,
  'change-email': VERIFICATION_TYPES.emailChangeEmail,
} as const;

/** The policy of an emailed code (`otp`) or link for `purpose`: 15 minutes, single use. */
export function emailSecretPolicy(
  purpose: EmailTokenPurpose,
  mode: 'otp' | 'link',
  maxAttempts: number,
): VerificationPolicy {
  return {
    type: EMAIL_TYPES[purpose],
    kind: mode === 'otp' ? 'code' : 'link',
    length: mode === 'otp' ? EMAIL_CODE_LENGTH : EMAIL_LINK_BYTES,
    ttlSeconds: EMAIL_TOKEN_TTL_SECONDS,
    maxAttempts,
    budget: {
      limit: VERIFICATION_FAILURE_BUDGET_FACTOR * maxAttempts,
      windowSeconds: VERIFICATION_FAILURE_WINDOW_SECONDS,
    },
  };
}

/**
 * Who an emailed secret is for: the account and the address it went to (`<userId>:<sha256(email)>`),
 * so it stops working when the address changes. An unknown address gets an identifier no row has,
 * and the same budget scope as a known one, so both answer alike.
 */
export function emailSubject(
  userId: string | undefined,
  email: string,
  purpose: EmailTokenPurpose,
): VerificationSubject {
  const tag = sha256(email);
  return {
    identifier: userId === undefined ? `none:${tag}` : `${userId}:${tag}`,
    budgetScope: `email:${purpose}:${tag}`,
  };
}

/** The account a link row is bound to and the SHA-256 of its address, from its identifier. */
export function parseEmailBinding(identifier: string): { userId: string; emailTag: string } | null {
  const [userId, emailTag, ...rest] = identifier.split(':');
  return userId && emailTag && rest.length === 0 ? { userId, emailTag } : null;
}
