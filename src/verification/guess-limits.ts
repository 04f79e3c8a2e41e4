import type { RateLimiter } from '../rate-limit/rate-limiter.js';
import type { RateLimitHit } from '../rate-limit/rate-limit-store.interface.js';

/** At most `limit` hits per fixed window of `windowSeconds`. */
export interface WindowLimit {
  limit: number;
  windowSeconds: number;
}

/**
 * How guesses of one scope (a phone number across purposes) are bounded, in the rate-limit store so
 * every instance shares the counts. Each guess counts, right or wrong, before any code is compared.
 */
export interface GuessLimits {
  /** Guesses per (scope, client): a client past it has failed and is refused until its window ends. */
  perClient: WindowLimit;
  /** Guesses per scope from every client together: the long-term bounds (24 hours, 30 days). */
  perScope: readonly WindowLimit[];
  /**
   * Guesses since the last success (NIST SP 800-63B: at most 100), counted over `windowSeconds`.
   * Past `delayAfter` of them the scope takes one guess per delay, the delay doubling from
   * `initialDelay` up to `maxDelay` seconds: a growing `Retry-After`, not a refusal of everyone.
   */
  consecutive: WindowLimit & { delayAfter: number; initialDelay: number; maxDelay: number };
}

/** Whether a guess may be compared; when not, when to try again (epoch ms). */
export type GuessAdmission = { ok: true } | { ok: false; retryAt: number };

/** Rate-limit store keys of a scope's guess counters. */
export function guessKeys(scope: string, client: string) {
  const base = `verification-guesses:${scope}`;
  return {
    client: `${base}:client:${client}`,
    window: (seconds: number) => `${base}:window:${seconds}`,
    consecutive: `${base}:consecutive`,
    gate: `${base}:delay`,
  };
}

/** Seconds the scope waits after a guess taken with `consecutive` failures before it (past `delayAfter`). */
export function progressiveDelay(limits: GuessLimits['consecutive'], consecutive: number): number {
  const doublings = Math.max(0, consecutive - limits.delayAfter);
  // 2^31 seconds is past any maxDelay; capping the exponent keeps the number finite.
  return Math.min(limits.maxDelay, limits.initialDelay * 2 ** Math.min(doublings, 31));
}

/**
 * Takes one guess slot of `scope` for `client`. First a look without counting, so a refused request
 * (a burnt client, a scope in its delay or past a bound) spends nothing and cannot push the owner
 * further out; then every counter is hit atomically, so parallel guesses never pass a bound: a count
 * past a limit refuses, and past `delayAfter` only the one guess that opens the delay window goes on.
 */
export async function admitGuess(
  limiter: RateLimiter,
  limits: GuessLimits,
  scope: string,
  client: string,
): Promise<GuessAdmission> {
  const keys = guessKeys(scope, client);
  const counted: [string, WindowLimit][] = [
    [keys.client, limits.perClient],
    ...limits.perScope.map((w): [string, WindowLimit] => [keys.window(w.windowSeconds), w]),
    [keys.consecutive, limits.consecutive],
  ];
  const [gate, ...current] = await Promise.all([
    limiter.peekKey(keys.gate),
    ...counted.map(([key]) => limiter.peekKey(key)),
  ]);
  // Retry-After names the latest of the full windows: trying earlier would only be refused again.
  const full = current.filter((hit, i): hit is RateLimitHit => hit !== null && hit.count >= counted[i][1].limit);
  if (gate) full.push(gate);
  if (full.length > 0) return { ok: false, retryAt: Math.max(...full.map((hit) => hit.resetAt)) };

  // In order: a burnt client's refused guess never reaches the scope's counters.
  const counts: number[] = [];
  for (const [key, limit] of counted) {
    const hit = await limiter.hitKey(key, limit.windowSeconds);
    if (hit.count > limit.limit) return refuse(hit);
    counts.push(hit.count);
  }
  const before = counts[counts.length - 1] - 1;
  if (before >= limits.consecutive.delayAfter) {
    const opened = await limiter.hitKey(keys.gate, progressiveDelay(limits.consecutive, before));
    if (opened.count > 1) return refuse(opened);
  }
  return { ok: true };
}

/** After a success: the client's and the scope's consecutive counts start again; the 24 h and 30 day counts stay. */
export async function resetGuesses(limiter: RateLimiter, scope: string, client: string): Promise<void> {
  const keys = guessKeys(scope, client);
  await Promise.all([limiter.resetKey(keys.client), limiter.resetKey(keys.consecutive), limiter.resetKey(keys.gate)]);
}

function refuse(hit: RateLimitHit): GuessAdmission {
  return { ok: false, retryAt: hit.resetAt };
}
