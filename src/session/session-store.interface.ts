import type { EntityManager } from 'typeorm';
import type { Session } from '../entities/session.entity.js';
import type { User } from '../entities/user.entity.js';
import type { SessionLookupKey } from './session-codec.interface.js';

/** A session row with its user, as one lookup returns them. */
export interface StoredSession {
  user: User;
  session: Session;
  /** Set when a cache answered: `SessionService` reads the row itself before ending such a session. */
  cached?: boolean;
  /**
   * With `twoFactor.required`: whether the user has a second factor (an active authenticator or a
   * passkey), read in the same round trip. Leave it `undefined` when unknown: the check then asks.
   */
  secondFactor?: boolean;
}

/** Options of a lookup. */
export interface SessionFindOptions {
  /** Read the row itself, never a cached copy. */
  fresh?: boolean;
}

/** Options of the writes a caller may need inside its own transaction (password change or reset). */
export interface SessionWriteOptions {
  /** Run the write on this transaction's manager instead of the default connection. */
  manager?: EntityManager;
}

/**
 * Where session rows live. The default, `TypeOrmSessionStore`, reads session and user in one SQL
 * join; provide another implementation under `SESSION_STORE` to wrap it (a cache) or replace it.
 * Methods throw on storage failure; `SessionService` turns any error into 503, never access.
 */
export interface SessionStore {
  /** Stores a new session row. */
  insert(session: Session): Promise<void>;
  /** The session named by `key` with its user, in one round trip; `null` when there is none. */
  find(key: SessionLookupKey, options?: SessionFindOptions): Promise<StoredSession | null>;
  /**
   * Optional: the session named by `key` when it is in memory (a cache), synchronously, as a copy
   * the caller may keep; `undefined` otherwise (then `find(key, { fresh: true })` follows). Never
   * touches storage and never throws.
   */
  findCached?(key: SessionLookupKey): StoredSession | undefined;
  /** Records renewal (`expiresAt` and `lastActiveAt`) or activity (`lastActiveAt` only). */
  update(sessionId: string, changes: { expiresAt?: Date; lastActiveAt: Date }): Promise<void>;
  /** Deletes one session (only `userId`'s when given). Returns whether it existed. */
  delete(sessionId: string, options?: SessionWriteOptions & { userId?: string }): Promise<boolean>;
  /** Deletes every session of a user, except `exceptSessionId`. Returns the count. */
  deleteByUser(userId: string, options?: SessionWriteOptions & { exceptSessionId?: string }): Promise<number>;
  /** The user's sessions that expire after `now`, newest first. */
  listByUser(userId: string, now: Date): Promise<Session[]>;
  /** Deletes sessions expired before `now` in batches of `batchSize`. Returns the count. */
  deleteExpired(now: Date, batchSize: number): Promise<number>;
}
