import type { Session } from '../entities/session.entity.js';

/** What a credential names, found without any database work. */
export type SessionLookupKey =
  /** A session JWT: the session id and the user it was issued to (checked against the row). */
  | { by: 'id'; sessionId: string; userId: string }
  /** A random token: the SHA-256 stored in the row. */
  | { by: 'tokenHash'; tokenHash: string };

/**
 * Turns a session into the credential a client holds, and a credential back into what to look up.
 * One implementation per strategy (`jwt`, `database`); the strategy's codec is provided under
 * `SESSION_CODEC`.
 */
export interface SessionCodec {
  /** The credential for a new session. `token` is the random secret whose SHA-256 the row stores. */
  encode(session: Session, email: string | null, token: string): string;
  /** The credential after sliding renewal moved `session.expiresAt`; `credential` is the one presented. */
  reissue(session: Session, email: string | null, credential: string): string;
  /** What `credential` names, or `null` when it is not a credential this codec issued. */
  decode(credential: string): SessionLookupKey | null;
}
