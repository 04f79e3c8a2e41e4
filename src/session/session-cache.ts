import { LRUCache } from 'lru-cache';
import type { SessionLookupKey } from './session-codec.interface.js';
import type { StoredSession } from './session-store.interface.js';

/** What the cache counts, for `GET`-style diagnostics and the benchmark. */
export interface SessionCacheStats {
  hits: number;
  misses: number;
  size: number;
  /** Whether entries are served: false while the invalidation channel is down or lagging. */
  available: boolean;
}

/** The cache key of a lookup: the token's SHA-256 (`database`) or the session id (`jwt`). */
export function sessionCacheKey(key: SessionLookupKey): string {
  return key.by === 'tokenHash' ? `h:${key.tokenHash}` : `i:${key.sessionId}`;
}

/** A copy whose mutation by one request (renewal, the application's own code) never reaches another. */
function copyOf(stored: StoredSession): StoredSession {
  return {
    user: Object.assign(Object.create(Object.getPrototypeOf(stored.user) as object) as object, stored.user),
    session: Object.assign(Object.create(Object.getPrototypeOf(stored.session) as object) as object, stored.session),
    secondFactor: stored.secondFactor,
  } as StoredSession;
}

/**
 * Validated sessions in memory, bounded in entries (LRU) and in age (TTL), indexed by session and
 * by user so one revocation finds every entry it concerns.
 *
 * Correctness against races: a database read that started before an invalidation must not store
 * what it read after it. Every invalidation bumps `generation`; a read remembers the generation
 * it started under (`begin()`) and its result is only stored when no invalidation happened since.
 */
export class SessionCache {
  private readonly entries: LRUCache<string, StoredSession>;
  private readonly bySession = new Map<string, string>();
  private readonly byUser = new Map<string, Set<string>>();
  private generation = 0;
  private available = false;
  private hits = 0;
  private misses = 0;

  constructor(options: { max: number; ttlSeconds: number }) {
    this.entries = new LRUCache<string, StoredSession>({
      max: options.max,
      ttl: options.ttlSeconds * 1000,
      // The age is checked on every read: an entry never answers past its TTL.
      ttlAutopurge: false,
      updateAgeOnGet: false,
      dispose: (stored, key) => this.unindex(key, stored),
    });
  }

  /** A copy of the entry for `key`, or undefined (always undefined while unavailable). */
  get(key: string): StoredSession | undefined {
    const stored = this.available ? this.entries.get(key) : undefined;
    if (stored) this.hits++;
    else this.misses++;
    return stored && copyOf(stored);
  }

  /** The generation a database read starts under; pass it to `set`. */
  begin(): number {
    return this.generation;
  }

  /** Stores what a read returned, unless an invalidation happened since `generation` or the cache is off. */
  set(key: string, stored: StoredSession, generation: number): void {
    if (!this.available || generation !== this.generation) return;
    this.entries.set(key, copyOf(stored));
    this.bySession.set(stored.session.id, key);
    let keys = this.byUser.get(stored.user.id);
    if (!keys) this.byUser.set(stored.user.id, (keys = new Set()));
    keys.add(key);
  }

  /** Records renewal or activity written by this instance on its cached entry. */
  update(sessionId: string, changes: { expiresAt?: Date; lastActiveAt: Date }): void {
    const key = this.bySession.get(sessionId);
    const stored = key === undefined ? undefined : this.entries.peek(key);
    if (!stored) return;
    if (changes.expiresAt) stored.session.expiresAt = changes.expiresAt;
    stored.session.lastActiveAt = changes.lastActiveAt;
  }

  invalidateSession(sessionId: string): void {
    this.generation++;
    const key = this.bySession.get(sessionId);
    if (key !== undefined) this.entries.delete(key);
  }

  invalidateUser(userId: string): void {
    this.generation++;
    for (const key of [...(this.byUser.get(userId) ?? [])]) this.entries.delete(key);
  }

  clear(): void {
    this.generation++;
    this.entries.clear();
  }

  /** Turns serving on or off. Both directions empty the cache: nothing read before a gap is trusted after it. */
  setAvailable(available: boolean): void {
    if (available === this.available) return;
    this.clear();
    this.available = available;
  }

  isAvailable(): boolean {
    return this.available;
  }

  stats(): SessionCacheStats {
    return { hits: this.hits, misses: this.misses, size: this.entries.size, available: this.available };
  }

  private unindex(key: string, stored: StoredSession): void {
    if (this.bySession.get(stored.session.id) === key) this.bySession.delete(stored.session.id);
    const keys = this.byUser.get(stored.user.id);
    keys?.delete(key);
    if (keys?.size === 0) this.byUser.delete(stored.user.id);
  }
}
