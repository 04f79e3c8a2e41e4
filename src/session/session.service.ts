import { Inject, Injectable, Logger } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { EntityManager } from 'typeorm';
import { ARRAF_AUTH_OPTIONS, SESSION_CODEC, SESSION_STORE } from '../arraf-auth.constants.js';
import { randomId, randomToken, sha256 } from '../crypto/crypto.util.js';
import { Session } from '../entities/session.entity.js';
import type { User } from '../entities/user.entity.js';
import { ArrafAuthException } from '../errors/arraf-auth.exception.js';
import type { ResolvedArrafAuthOptions } from '../options/arraf-auth-options.interface.js';
import { VerificationService } from '../verification/verification.service.js';
import { SecurityEventsService } from '../security-events/security-events.service.js';
import { OutageLog } from './outage-log.js';
import { SessionInvalidation } from './session-invalidation.js';
import type { SessionCodec, SessionLookupKey } from './session-codec.interface.js';
import type { SessionStore, StoredSession } from './session-store.interface.js';
import type { ActiveSession, CreatedSession, RevokeOptions, SessionContext, SessionSummary } from './session.types.js';

/** Idle-timeout bookkeeping writes at most this often per session. */
const ACTIVITY_WRITE_INTERVAL_MS = 60_000;
const MAX_USER_AGENT = 512;
const MAX_CREDENTIAL_LENGTH = 4096;
const FRESH = { fresh: true } as const;

export type { ActiveSession, CreatedSession, RevokeOptions, SessionContext, SessionSummary } from './session.types.js';

/**
 * The session policy for both strategies: create, check (`getSession`), renew, idle and absolute
 * timeouts, freshness, revoke, list. The credential format is the strategy's `SESSION_CODEC`;
 * rows live in the `SESSION_STORE`. Any storage error fails closed with 503.
 */
@Injectable()
export class SessionService {
  private readonly logger = new Logger('ArrafAuth');
  private readonly outage = new OutageLog(this.logger, 'Session store');
  private readonly settings: ResolvedArrafAuthOptions['session'];

  constructor(
    @Inject(ARRAF_AUTH_OPTIONS) options: ResolvedArrafAuthOptions,
    @Inject(SESSION_STORE) private readonly store: SessionStore,
    @Inject(SESSION_CODEC) private readonly codec: SessionCodec,
    private readonly moduleRef: ModuleRef,
    private readonly invalidation: SessionInvalidation,
  ) {
    this.settings = options.session;
  }

  /** Creates a session for `user` with a new random token (never reuses one: no fixation). */
  async createSession(user: Pick<User, 'id' | 'email'>, context: SessionContext = {}): Promise<CreatedSession> {
    const token = randomToken(32);
    const now = new Date();
    const lifetime = Math.min(this.settings.expiresIn, this.settings.absoluteTimeout);
    const session = Object.assign(new Session(), {
      id: randomId(),
      userId: user.id,
      tokenHash: sha256(token),
      expiresAt: new Date(now.getTime() + lifetime * 1000),
      lastActiveAt: now,
      createdAt: now,
      ipAddress: context.ipAddress?.slice(0, 45) ?? null,
      userAgent: context.userAgent?.slice(0, MAX_USER_AGENT) ?? null,
    });
    await this.failClosed(() => this.store.insert(session));
    return { session, cookieValue: this.codec.encode(session, user.email ?? null, token) };
  }

  /**
   * Resolves a cookie or Bearer credential to its session and user, or `null` for anything
   * invalid, expired, idle, past its absolute lifetime or revoked; such rows are deleted. Renews
   * the session (and sets `cookieValue`, for cookie and bearer clients alike) when it is older
   * than `updateAge` since its last renewal. Throws 503 `SERVICE_UNAVAILABLE` when storage fails.
   */
  async getSession(credential: string | undefined): Promise<ActiveSession | null> {
    return this.checkSession(credential);
  }

  /**
   * {@link getSession} for the guard's hot path: answers synchronously when the answer needs no
   * storage (a malformed credential, or a `session.cache` hit with nothing to renew, record or
   * end), and with a promise otherwise. Same answers, same errors.
   */
  checkSession(credential: string | undefined): ActiveSession | null | Promise<ActiveSession | null> {
    if (!credential || credential.length > MAX_CREDENTIAL_LENGTH) return null;
    const key = this.codec.decode(credential);
    if (!key) return null;
    const hit = this.store.findCached?.(key);
    if (hit) {
      if (key.by === 'id' && key.userId !== hit.session.userId) return null;
      const now = Date.now();
      // Ending or renewing goes through the store (a cached copy may lag the row): the slow path.
      if (!this.hasEnded(hit.session, now) && this.dueWrite(hit.session, now) === undefined) {
        return { user: hit.user, session: hit.session, secondFactor: hit.secondFactor };
      }
    }
    return this.failClosed(() => this.resolve(key, credential, hit && { ...hit, cached: true }));
  }

  /** Revokes one session. With `userId`, only if it belongs to that user. Returns whether it existed. */
  revokeSession(sessionId: string, userId?: string, options: RevokeOptions = {}): Promise<boolean> {
    return this.failClosed(() =>
      this.recorded(
        options,
        (manager) => this.store.delete(sessionId, { userId, manager }),
        (deleted) => (deleted ? {} : null),
      ),
    );
  }

  /**
   * Revokes every session of a user ("log out everywhere", password change or reset), except
   * `exceptSessionId` when given. Pass `manager` to run inside the caller's transaction. Returns the count.
   */
  revokeUserSessions(userId: string, options: RevokeOptions & { exceptSessionId?: string } = {}): Promise<number> {
    const { exceptSessionId } = options;
    return this.failClosed(() =>
      this.recorded(
        options,
        (manager) => this.store.deleteByUser(userId, { exceptSessionId, manager }),
        (count) => (count > 0 ? { count } : null),
      ),
    );
  }

  /** Revokes every session of a user except `currentSessionId`. Returns the count. */
  revokeOtherSessions(userId: string, currentSessionId: string, options: RevokeOptions = {}): Promise<number> {
    return this.revokeUserSessions(userId, { ...options, exceptSessionId: currentSessionId });
  }

  /**
   * With `session.cache`, drops the user's cached sessions on every instance. Writes through
   * TypeORM repositories and the library's own flows do this on their own; call it after changing
   * or deleting a user (or its sessions) with raw SQL. Pass `manager` inside a transaction.
   */
  forgetUser(userId: string, options: RevokeOptions = {}): Promise<void> {
    return this.invalidation.invalidate({ type: 'user', id: userId }, options.manager);
  }

  /** The user's unexpired sessions, newest first, without secrets. */
  async listSessions(userId: string, currentSessionId?: string): Promise<SessionSummary[]> {
    const sessions = await this.failClosed(() => this.store.listByUser(userId, new Date()));
    return sessions.map((s) => ({
      id: s.id,
      ipAddress: s.ipAddress,
      userAgent: s.userAgent,
      createdAt: s.createdAt,
      expiresAt: s.expiresAt,
      current: s.id === currentSessionId,
    }));
  }

  /** Whether the sign-in behind `session` is recent enough for sensitive actions (`freshAge`). */
  isFresh(session: Pick<Session, 'createdAt'>): boolean {
    return Date.now() - session.createdAt.getTime() <= this.settings.freshAge * 1000;
  }

  /**
   * Deletes expired sessions and verifications in batches of `batchSize`, so concurrent requests
   * keep being served. Returns how many rows were deleted.
   */
  async deleteExpired(batchSize = 1000): Promise<{ sessions: number; verifications: number }> {
    const now = new Date();
    return {
      sessions: await this.store.deleteExpired(now, batchSize),
      // Expired codes are swept here too so one scheduled call cleans both tables; the verification
      // service stays the only writer of its table. Looked up when needed, so the session layer is
      // built without the verification layer and its rate limiter.
      verifications: await this.moduleRef.get(VerificationService, { strict: false }).deleteExpired(now, batchSize),
    };
  }

  /** `Max-Age` for a cookie carrying this session. */
  cookieMaxAge(session: Pick<Session, 'expiresAt'>): number {
    return Math.floor((session.expiresAt.getTime() - Date.now()) / 1000);
  }

  /** The lookup behind {@link checkSession}: the store (or what it already answered), ending, renewal. */
  private async resolve(
    key: SessionLookupKey,
    credential: string,
    cached: StoredSession | undefined,
  ): Promise<ActiveSession | null> {
    // After a miss in memory, `fresh` skips asking the cache a second time.
    let found = cached ?? (await this.store.find(key, this.store.findCached ? FRESH : undefined));
    const now = Date.now();
    // A cached copy may lag the row (renewed or active on another instance): never end a session on it.
    if (found?.cached && this.hasEnded(found.session, now)) found = await this.store.find(key, { fresh: true });
    if (!found || (key.by === 'id' && key.userId !== found.session.userId)) return null;
    const { user, session, secondFactor } = found;
    if (this.hasEnded(session, now)) {
      await this.store.delete(session.id);
      return null;
    }
    const due = this.dueWrite(session, now);
    const cookieValue = due === undefined ? undefined : await this.renew(due, session, user, now, credential);
    return { user, session, cookieValue, secondFactor };
  }

  /** Expired, idle for `idleTimeout`, or signed in longer ago than `absoluteTimeout`. */
  private hasEnded(session: Session, now: number): boolean {
    const { idleTimeout, absoluteTimeout } = this.settings;
    return (
      session.expiresAt.getTime() <= now ||
      now - session.createdAt.getTime() >= absoluteTimeout * 1000 ||
      (idleTimeout !== undefined && now - session.lastActiveAt.getTime() >= idleTimeout * 1000)
    );
  }

  /**
   * What a check at `now` must write: `renew` once `updateAge` has passed since the last renewal
   * (unless the expiry is already at `createdAt + absoluteTimeout`: nothing left to extend), else,
   * with an idle timeout, `touch` (activity) at most once a minute.
   */
  private dueWrite(session: Session, now: number): 'renew' | 'touch' | undefined {
    const { expiresIn, updateAge, idleTimeout, absoluteTimeout } = this.settings;
    const renewedAt = session.expiresAt.getTime() - expiresIn * 1000;
    const expiresAt = Math.min(now + expiresIn * 1000, session.createdAt.getTime() + absoluteTimeout * 1000);
    if (now - renewedAt >= updateAge * 1000 && expiresAt > session.expiresAt.getTime()) return 'renew';
    if (idleTimeout !== undefined && now - session.lastActiveAt.getTime() >= ACTIVITY_WRITE_INTERVAL_MS) return 'touch';
    return undefined;
  }

  /**
   * Runs a revocation; with `options.event`, in a transaction (the caller's, or a new one) that also
   * records the event when `happened` says something was revoked.
   */
  private async recorded<T>(
    options: RevokeOptions,
    revoke: (manager?: EntityManager) => Promise<T>,
    happened: (result: T) => Record<string, number> | null,
  ): Promise<T> {
    const { event } = options;
    if (!event) return revoke(options.manager);
    const events = this.moduleRef.get(SecurityEventsService, { strict: false });
    return events.transaction(options.manager, async (manager) => {
      const result = await revoke(manager);
      const detail = happened(result);
      if (detail) await events.record({ ...event, detail: { ...event.detail, ...detail } }, { manager });
      return result;
    });
  }

  /**
   * Sliding renewal moves the expiry to `now + expiresIn`, never past `createdAt + absoluteTimeout`,
   * and returns the credential to re-issue; `touch` records activity only.
   */
  private async renew(
    due: 'renew' | 'touch',
    session: Session,
    user: User,
    now: number,
    credential: string,
  ): Promise<string | undefined> {
    session.lastActiveAt = new Date(now);
    if (due === 'touch') {
      await this.store.update(session.id, { lastActiveAt: session.lastActiveAt });
      return undefined;
    }
    const { expiresIn, absoluteTimeout } = this.settings;
    session.expiresAt = new Date(
      Math.min(now + expiresIn * 1000, session.createdAt.getTime() + absoluteTimeout * 1000),
    );
    await this.store.update(session.id, { expiresAt: session.expiresAt, lastActiveAt: session.lastActiveAt });
    return this.codec.reissue(session, user.email ?? null, credential);
  }

  /** Runs a storage operation; any failure is 503 `SERVICE_UNAVAILABLE`, on any route, never a 500. */
  private failClosed<T>(operation: () => Promise<T>): Promise<T> {
    let pending: Promise<T>;
    try {
      pending = operation();
    } catch (error) {
      return Promise.reject(this.unavailable(error));
    }
    // A promise chain rather than `async`/`await`: fewer microtask turns on the guard's path.
    return pending.then(
      (result) => {
        this.outage.success();
        return result;
      },
      (error: unknown) => {
        throw this.unavailable(error);
      },
    );
  }

  private unavailable(error: unknown): ArrafAuthException {
    if (error instanceof ArrafAuthException) return error;
    this.outage.failure(error);
    return new ArrafAuthException('SERVICE_UNAVAILABLE', { cause: error });
  }
}
