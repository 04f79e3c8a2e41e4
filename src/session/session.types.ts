import type { EntityManager } from 'typeorm';
import type { Session } from '../entities/session.entity.js';
import type { User } from '../entities/user.entity.js';
import type { SecurityEventInput } from '../security-events/security-event.types.js';

// The shapes `SessionService` takes and returns, apart so the policy reads on one page.

/** Where a session is created from: the platform's `request.ip` and the user agent. */
export interface SessionContext {
  ipAddress?: string | null;
  userAgent?: string | null;
}

/**
 * A valid session with its user. `cookieValue` is set when the credential must be handed to the
 * client again (sliding renewal): a cookie for cookie clients, the `Set-Auth-Token` header for
 * bearer clients (`SessionCookie.write(response, cookieValue, session.expiresAt, source)`).
 */
export interface ActiveSession {
  user: User;
  session: Session;
  cookieValue?: string;
  /**
   * With `twoFactor.required`: whether the user has a second factor, read in the same lookup as the
   * session (or kept with it in `session.cache`). `undefined` when the store did not say.
   */
  secondFactor?: boolean;
}

/** A freshly created session and the credential for its cookie (JWT or random token). */
export interface CreatedSession {
  session: Session;
  cookieValue: string;
}

/** A session as listed to its owner: no token or hash. */
export interface SessionSummary {
  id: string;
  ipAddress: string | null;
  userAgent: string | null;
  createdAt: Date;
  expiresAt: Date;
  current: boolean;
}

/** Options of the revocations a password change or reset runs inside its own transaction. */
export interface RevokeOptions {
  /** The caller's transaction: the revocation commits or rolls back with it. */
  manager?: EntityManager;
  /**
   * The security event to record when something was revoked (`sign_out`, `session.revoked`), in the
   * same transaction as the revocation (`detail.count` is added for several sessions).
   */
  event?: SecurityEventInput;
}
