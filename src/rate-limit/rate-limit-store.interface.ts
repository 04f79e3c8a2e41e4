/** A fixed-window counter: how many hits the key has in its current window, and when it resets. */
export interface RateLimitHit {
  count: number;
  /** Epoch milliseconds when the window ends. */
  resetAt: number;
}

/**
 * Where rate-limit counters live. `hit` must be atomic: under any concurrency, N calls within a
 * window return counts 1..N exactly once each. In memory by default; shared stores (Redis) make
 * limits count across application instances.
 */
export interface RateLimitStore {
  /** Counts one hit against `key` in a window of `windowSeconds` and returns the new total. */
  hit(key: string, windowSeconds: number): Promise<RateLimitHit>;
  /** The current window of `key` without counting, or `null` when none is open. */
  peek(key: string): Promise<RateLimitHit | null>;
  /** Forgets `key`. */
  reset(key: string): Promise<void>;
  /**
   * Takes back one hit of `key`'s open window (a slot reserved before a check that then passed):
   * never below zero, never opens a window. Optional: a store without it keeps the hit, the safe side.
   */
  release?(key: string): Promise<void>;
}
