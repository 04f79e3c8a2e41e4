import { Inject, Injectable } from '@nestjs/common';
import type { Session } from '../entities/session.entity.js';
import type { SessionLookupKey } from './session-codec.interface.js';
import { SESSION_CACHE } from './session-cache.constants.js';
import { type SessionCache, sessionCacheKey } from './session-cache.js';
import { SessionInvalidation, sessionLayerWrite } from './session-invalidation.js';
import type {
  SessionFindOptions,
  SessionStore,
  SessionWriteOptions,
  StoredSession,
} from './session-store.interface.js';
import { TypeOrmSessionStore } from './typeorm-session.store.js';

/**
 * `session.cache`: the database store behind an in-process cache. A hit answers with no database
 * round trip; a miss reads the row and keeps it (unless an invalidation happened meanwhile).
 * Every delete invalidates here before it returns and on the other instances through the channel;
 * renewal and activity writes still go to the database and update the cached entry.
 */
@Injectable()
export class CachingSessionStore implements SessionStore {
  constructor(
    private readonly inner: TypeOrmSessionStore,
    @Inject(SESSION_CACHE) private readonly cache: SessionCache,
    private readonly invalidation: SessionInvalidation,
  ) {}

  insert(session: Session): Promise<void> {
    return this.inner.insert(session);
  }

  findCached(key: SessionLookupKey): StoredSession | undefined {
    return this.cache.get(sessionCacheKey(key));
  }

  async find(key: SessionLookupKey, options: SessionFindOptions = {}): Promise<StoredSession | null> {
    const cacheKey = sessionCacheKey(key);
    if (!options.fresh) {
      const hit = this.cache.get(cacheKey);
      if (hit) return { ...hit, cached: true };
    }
    const generation = this.cache.begin();
    const found = await this.inner.find(key);
    if (found) this.cache.set(cacheKey, found, generation);
    return found;
  }

  async update(sessionId: string, changes: { expiresAt?: Date; lastActiveAt: Date }): Promise<void> {
    await this.inner.update(sessionId, changes);
    this.cache.update(sessionId, changes);
  }

  async delete(sessionId: string, options: SessionWriteOptions & { userId?: string } = {}): Promise<boolean> {
    const deleted = await sessionLayerWrite.run(true, () => this.inner.delete(sessionId, options));
    // Even when nothing was deleted here: the row may have gone another way and still be cached.
    await this.invalidation.invalidate({ type: 'session', id: sessionId }, options.manager);
    return deleted;
  }

  async deleteByUser(
    userId: string,
    options: SessionWriteOptions & { exceptSessionId?: string } = {},
  ): Promise<number> {
    const count = await sessionLayerWrite.run(true, () => this.inner.deleteByUser(userId, options));
    // The kept session is dropped from the cache too; its next check reads it again.
    await this.invalidation.invalidate({ type: 'user', id: userId }, options.manager);
    return count;
  }

  listByUser(userId: string, now: Date): Promise<Session[]> {
    return this.inner.listByUser(userId, now);
  }

  /** Expired rows are refused from the cache by their own `expiresAt`; nothing cached needs dropping. */
  deleteExpired(now: Date, batchSize: number): Promise<number> {
    return sessionLayerWrite.run(true, () => this.inner.deleteExpired(now, batchSize));
  }
}
