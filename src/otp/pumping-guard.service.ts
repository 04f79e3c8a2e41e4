import { Inject, Injectable, Logger } from '@nestjs/common';
import { ARRAF_AUTH_OPTIONS } from '../arraf-auth.constants.js';
import { ArrafAuthException } from '../errors/arraf-auth.exception.js';
import type { ResolvedArrafAuthOptions } from '../options/arraf-auth-options.interface.js';
import { RateLimiter } from '../rate-limit/rate-limiter.js';
import { retryAfterSeconds, tooManyRequests } from '../rate-limit/rate-limit.errors.js';
import { OTP_DAY_SECONDS, OTP_SEND_WINDOW_SECONDS, pumpingKeys } from './otp.constants.js';
import { numberPrefix } from './phone-type.js';

/**
 * The SMS-pumping guard, with no paid service: caps codes per number prefix per hour, pauses a
 * prefix whose codes are rarely verified (the conversion breaker), and stops all sends past the
 * daily budget. Every counter lives in the rate-limit store, so instances sharing Redis share them;
 * a store that fails refuses sends (503), never lets them through unguarded.
 */
@Injectable()
export class PumpingGuard {
  private readonly logger = new Logger('ArrafAuthOtp');

  constructor(
    @Inject(ARRAF_AUTH_OPTIONS) private readonly options: ResolvedArrafAuthOptions,
    private readonly limiter: RateLimiter,
  ) {}

  /**
   * Counts one send to `e164` and throws when it must not go out: 429 `OTP_PREFIX_PAUSED` (the
   * prefix is paused by the breaker, or over its hourly cap) or 503 `OTP_BUDGET_EXHAUSTED`, each with
   * `Retry-After`.
   */
  async admit(e164: string): Promise<void> {
    const { prefixGuard, dailyBudget } = this.options.otp;
    const prefix = numberPrefix(e164, prefixGuard.digits);
    const paused = await this.limiter.peekKey(pumpingKeys.paused(prefix));
    if (paused) throw tooManyRequests('OTP_PREFIX_PAUSED', paused.resetAt);
    const velocity = await this.limiter.hitKey(pumpingKeys.velocity(prefix), OTP_SEND_WINDOW_SECONDS);
    if (velocity.count > prefixGuard.maxSendsPerHour) {
      if (velocity.count === prefixGuard.maxSendsPerHour + 1)
        this.logger.warn(
          `Codes to ${prefix}… reached otp.prefixGuard.maxSendsPerHour (${prefixGuard.maxSendsPerHour})`,
        );
      throw tooManyRequests('OTP_PREFIX_PAUSED', velocity.resetAt);
    }
    const budget = await this.limiter.hitKey(pumpingKeys.budget, OTP_DAY_SECONDS);
    if (budget.count > dailyBudget) {
      // Logged once per window, across instances: the hit that first went over the budget.
      if (budget.count === dailyBudget + 1)
        this.logger.error(
          `otp.dailyBudget (${dailyBudget} codes per 24 h) is used up; codes are refused until it resets`,
        );
      throw new ArrafAuthException('OTP_BUDGET_EXHAUSTED', {
        headers: { 'Retry-After': String(retryAfterSeconds(budget.resetAt)) },
      });
    }
  }

  /**
   * Counts a delivered code for the breaker and pauses its prefix when too few codes are verified.
   * The sample that tripped the breaker is kept through the pause (it is what {@link verified} judges
   * a lift on) and starts again with the first code delivered after the pause, so one bad hour is not
   * judged twice.
   */
  async delivered(e164: string): Promise<void> {
    const { digits, window, minSends, minVerifiedRatio, pauseFor } = this.options.otp.prefixGuard;
    const prefix = numberPrefix(e164, digits);
    if (
      (await this.limiter.peekKey(pumpingKeys.judged(prefix))) &&
      !(await this.limiter.peekKey(pumpingKeys.paused(prefix)))
    )
      await this.newSample(prefix);
    const sent = await this.limiter.hitKey(pumpingKeys.sent(prefix), window);
    if (sent.count < minSends) return;
    const verified = (await this.limiter.peekKey(pumpingKeys.verified(prefix)))?.count ?? 0;
    if (verified / sent.count >= minVerifiedRatio) return;
    const pause = await this.limiter.hitKey(pumpingKeys.paused(prefix), pauseFor);
    // Outlives the pause and the sample: the next delivery after the pause starts a new sample.
    await this.limiter.hitKey(pumpingKeys.judged(prefix), pauseFor + window);
    if (pause.count === 1) {
      this.logger.warn(
        `Codes to ${prefix}… paused for ${pauseFor} s: ${verified} of ${sent.count} codes verified ` +
          `(below otp.prefixGuard.minVerifiedRatio ${minVerifiedRatio}), the pattern of SMS pumping`,
      );
    }
  }

  /**
   * Counts a verified code of `e164`'s prefix. A paused prefix is lifted only when the verified share
   * of the window's sample is back at `minVerifiedRatio`: no code goes out during a pause, so only
   * codes of the sample that tripped the breaker can be verified, and enough of them must be. One
   * number an attacker owns in a pumped prefix is one verification among many unverified sends; it
   * does not lift the pause, while a prefix whose people are really typing their codes in does.
   */
  async verified(e164: string): Promise<void> {
    const { digits, window, minVerifiedRatio } = this.options.otp.prefixGuard;
    const prefix = numberPrefix(e164, digits);
    const verified = await this.limiter.hitKey(pumpingKeys.verified(prefix), window);
    if (!(await this.limiter.peekKey(pumpingKeys.paused(prefix)))) return;
    // No sample left (its window ended during the pause): nothing to judge, the pause runs out.
    const sent = await this.limiter.peekKey(pumpingKeys.sent(prefix));
    if (!sent || verified.count / sent.count < minVerifiedRatio) return;
    await this.limiter.resetKey(pumpingKeys.paused(prefix));
    this.logger.log(`Codes to ${prefix}… resumed: ${verified.count} of ${sent.count} codes verified`);
  }

  /** Forgets the sample of a prefix whose pause is over. */
  private async newSample(prefix: string): Promise<void> {
    await this.limiter.resetKey(pumpingKeys.judged(prefix));
    await this.limiter.resetKey(pumpingKeys.sent(prefix));
    await this.limiter.resetKey(pumpingKeys.verified(prefix));
  }
}
