import type { VerificationPolicy } from '../verification/verification.interfaces.js';

/** Seconds a WebAuthn challenge lives (short: the browser prompt is open meanwhile). */
export const PASSKEY_CHALLENGE_TTL_SECONDS = 300;

function challengePolicy(type: VerificationPolicy['type']): VerificationPolicy {
  return {
    type,
    kind: 'link',
    length: 32,
    ttlSeconds: PASSKEY_CHALLENGE_TTL_SECONDS,
    maxAttempts: 1,
    budget: { limit: 15, windowSeconds: 3600 },
  };
}

/**
 * WebAuthn challenges are one-time secrets like any other: 256 random bits issued by the
 * verification service (SHA-256 at rest), consumed by the one request that answers them.
 */
export const REGISTER_CHALLENGE = challengePolicy('passkey:register');
export const AUTHENTICATE_CHALLENGE = challengePolicy('passkey:authenticate');

/** Passkeys per user: enough for every device a person owns. */
export const MAX_PASSKEYS_PER_USER = 20;
