import type { EntityManager } from 'typeorm';
import type { VerificationType } from './verification.constants.js';
import type { GuessLimits, WindowLimit } from './guess-limits.js';

/**
 * How one kind of one-time secret behaves. Adding a secret (backup codes, WhatsApp codes) is one
 * policy and a call to {@link VerificationService}.
 */
export interface VerificationPolicy {
  /** `<channel>:<purpose>`, stored as the row's `type`; a secret never works for another type. */
  type: VerificationType;
  /** `code`: digits a person types (HMAC at rest, attempts counted); `link`: a 256-bit token (SHA-256 at rest). */
  kind: 'code' | 'link';
  /** Digits of a code; random bytes of a link. */
  length: number;
  /** Seconds until the secret expires. */
  ttlSeconds: number;
  /** Guesses one code allows; links are single lookups and ignore it. */
  maxAttempts: number;
  /**
   * Guesses per budget scope and window, across every code issued to it, whoever guesses (emailed
   * codes). Ignored when `guessLimits` is set.
   */
  budget?: WindowLimit;
  /** Per-client, long-term and consecutive bounds with progressive delays (SMS codes). */
  guessLimits?: GuessLimits;
}

/** Who a secret is for. */
export interface VerificationSubject {
  /** What the secret is bound to (an E.164 number, `<userId>:<sha256(email)>`). */
  identifier: string;
  /** Who shares the failure budget (a number across purposes, an address); default `identifier`. */
  budgetScope?: string;
  /** Who is guessing (a client address bucket), for `guessLimits`' per-client counts. @default 'unknown' */
  client?: string;
}

/** A freshly issued secret: handed to the delivery and never stored. */
export interface IssuedSecret {
  /** The digits of a code, or the token of a link. */
  secret: string;
  expiresAt: Date;
}

/** When older secrets of the same type and identifier stop working. */
export type ReplaceOlder =
  /** Before delivery: after a failed delivery no code at all is usable (SMS). */
  | 'before-delivery'
  /** After a successful delivery: a failed resend leaves the previous secret working (email). */
  | 'after-delivery';

/** The options of {@link VerificationService.issue}. */
export interface IssueOptions {
  /** Sends the secret; when it throws, the new secret is deleted and the error rethrown. */
  deliver: (issued: IssuedSecret) => unknown;
  /** @default 'before-delivery' */
  replaceOlder?: ReplaceOlder;
  /** Older rows whose identifier starts with `<replaceScope>:` are replaced too (an account's old addresses). */
  replaceScope?: string;
}

/** A live secret that matched, not yet consumed. */
export interface VerificationMatch {
  id: string;
  identifier: string;
  valueHash: string;
}

/** Why a code did not verify. `budget` and `exhausted` carry when to try again (epoch ms). */
export type VerificationFailure =
  | { ok: false; reason: 'invalid' }
  | { ok: false; reason: 'expired' }
  /** `budgetResetAt` is set when the failure budget is spent as well. */
  | { ok: false; reason: 'exhausted'; budgetResetAt?: number }
  | { ok: false; reason: 'budget'; retryAt: number };

/** The outcome of a code check. */
export type VerificationCheck = { ok: true; match: VerificationMatch } | VerificationFailure;

/** Options of a check. */
export interface CheckOptions {
  /** Runs after the code matched and before it is consumed; when it throws the code stays usable. */
  beforeConsume?: () => unknown;
}

/** A transaction a revocation joins. */
export type VerificationManager = EntityManager;
