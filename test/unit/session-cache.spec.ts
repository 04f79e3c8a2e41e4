import { describe, expect, it } from '@jest/globals';
import type { Session } from '../../src/entities/session.entity.js';
import type { User } from '../../src/entities/user.entity.js';
import { SessionCache } from '../../src/session/session-cache.js';

function stored(i: number) {
  return {
    user: { id: `user-${i % 5000}` } as User,
    session: {
      id: `session-${i}`,
      userId: `user-${i % 5000}`,
      expiresAt: new Date(),
      lastActiveAt: new Date(),
    } as Session,
  };
}

describe('SessionCache', () => {
  it('stays within its entry bound, indexes included, under 100,000 distinct sessions', () => {
    const cache = new SessionCache({ max: 1000, ttlSeconds: 30 });
    cache.setAvailable(true);
    for (let i = 0; i < 100_000; i++) cache.set(`h:${i}`, stored(i), cache.begin());
    expect(cache.stats().size).toBe(1000);
    const internals = cache as unknown as { bySession: Map<string, string>; byUser: Map<string, Set<string>> };
    expect(internals.bySession.size).toBe(1000);
    const indexed = [...internals.byUser.values()].reduce((n, keys) => n + keys.size, 0);
    expect(indexed).toBe(1000);
  });

  it('does not store a read that an invalidation overtook', () => {
    const cache = new SessionCache({ max: 10, ttlSeconds: 30 });
    cache.setAvailable(true);
    const generation = cache.begin();
    cache.invalidateSession('session-1');
    cache.set('h:1', stored(1), generation);
    expect(cache.get('h:1')).toBeUndefined();
  });

  it('serves nothing and stores nothing while unavailable, and comes back empty', () => {
    const cache = new SessionCache({ max: 10, ttlSeconds: 30 });
    cache.setAvailable(true);
    cache.set('h:1', stored(1), cache.begin());
    cache.setAvailable(false);
    expect(cache.get('h:1')).toBeUndefined();
    cache.set('h:2', stored(2), cache.begin());
    cache.setAvailable(true);
    expect(cache.stats().size).toBe(0);
  });
});
