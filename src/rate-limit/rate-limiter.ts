import { Inject, Injectable, Logger } from '@nestjs/common';
import { ARRAF_AUTH_OPTIONS, RATE_LIMIT_STORE } from '../arraf-auth.constants.js';
import { ArrafAuthException } from '../errors/arraf-auth.exception.js';
import type { ResolvedArrafAuthOptions } from '../options/arraf-auth-options.interface.js';
import type { RateLimitRule } from './rate-limit.constants.js';
import { tooManyRequests } from './rate-limit.errors.js';
import type { RateLimitHit, RateLimitStore } from './rate-limit-store.interface.js';

/**
 * Applies the rules of `rateLimit.limits` against the {@link RateLimitStore}: one atomic hit per
 * request, 429 `RATE_LIMITED` with `Retry-After` past the limit. A store that fails (Redis
 * unreachable, a timeout) fails closed: 503 `SERVICE_UNAVAILABLE`, never an unlimited route.
 *
 * @example await limiter.consume('sign-in:phone', phone);
 */
@Injectable()
export class RateLimiter {
  private readonly logger = new Logger('ArrafAuth');

  constructor(
    @Inject(RATE_LIMIT_STORE) private readonly store: RateLimitStore,
    @Inject(ARRAF_AUTH_OPTIONS) private readonly options: ResolvedArrafAuthOptions,
  ) {}

  /**
   * Counts one request of `rule` for `subject`; throws 429 once the window holds more than the
   * limit. `onLimitReached` runs for the first refused request of a window only (exactly once
   * across instances sharing a store): the place to log a lockout.
   */
  async consume(
    rule: RateLimitRule,
    subject: string,
    onLimitReached?: (hit: RateLimitHit) => void,
  ): Promise<RateLimitHit> {
    const { limit, window } = this.options.rateLimit.limits[rule];
    const hit = await this.guard(() => this.store.hit(rateLimitKey(rule, subject), window));
    if (hit.count > limit) {
      if (hit.count === limit + 1) onLimitReached?.(hit);
      throw tooManyRequests('RATE_LIMITED', hit.resetAt);
    }
    return hit;
  }

  /** The limit of `rule` after the `rateLimit.limits` overrides. */
  limitOf(rule: RateLimitRule): number {
    return this.options.rateLimit.limits[rule].limit;
  }

  /** Clears the window of `rule` for `subject` (e.g. failed sign-ins after a successful one). */
  async reset(rule: RateLimitRule, subject: string): Promise<void> {
    await this.guard(() => this.store.reset(rateLimitKey(rule, subject)));
  }

  /**
   * Counts one hit of a raw store key in a window of `windowSeconds`, with the same fail-closed
   * handling as the rules: for counters that are not a per-route rule (per-number send caps,
   * failure budgets of one-time codes).
   */
  hitKey(key: string, windowSeconds: number): Promise<RateLimitHit> {
    return this.guard(() => this.store.hit(key, windowSeconds));
  }

  /** The open window of a raw key without counting, or `null`. */
  peekKey(key: string): Promise<RateLimitHit | null> {
    return this.guard(() => this.store.peek(key));
  }

  /**
   * Takes back one hit of a raw key (a failure-budget slot reserved before a check that passed).
   * Never fails the request: when the store cannot, the slot stays spent (the safe side) and the
   * failure is logged. A store without `release` keeps every hit.
   */
  async releaseKey(key: string): Promise<void> {
    if (!this.store.release) return;
    await this.guard(() => this.store.release!(key)).catch(() => undefined);
  }

  /** Forgets a raw key (a cooldown after a failed SMS, so the person may retry at once). */
  async resetKey(key: string): Promise<void> {
    await this.guard(() => this.store.reset(key));
  }

  private async guard<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      if (error instanceof ArrafAuthException) throw error;
      this.logger.error(
        `Rate-limit store failed; refusing the request: ${error instanceof Error ? error.message : String(error)}`,
      );
      throw new ArrafAuthException('SERVICE_UNAVAILABLE', { cause: error });
    }
  }
}

/** The store key of a rule and subject. */
export function rateLimitKey(rule: RateLimitRule, subject: string): string {
  return `${rule}:${subject}`;
}
