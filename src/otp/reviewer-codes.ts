import type { Logger } from '@nestjs/common';
import { safeEqual } from '../crypto/crypto.util.js';
import { ArrafAuthException } from '../errors/arraf-auth.exception.js';
import { maskPhone } from '../phone/normalize-phone.js';
import type { RateLimiter } from '../rate-limit/rate-limiter.js';
import { tooManyRequests } from '../rate-limit/rate-limit.errors.js';
import { OTP_DAY_SECONDS, otpKeys } from './otp.constants.js';

/**
 * The fixed codes of reviewer numbers (`otp.testNumbers`), with at most `maxFailuresPerDay` wrong
 * codes compared per number and UTC day, under any concurrency.
 *
 * Every check takes a slot first (an atomic hit of the day's attempt counter) and compares only when
 * `attempts - successes` is within the bound: N parallel wrong guesses get counts 1..N, so at most
 * `maxFailuresPerDay` of them are compared and the rest are 429 `OTP_TOO_MANY_ATTEMPTS`. A right
 * code gives its slot back by counting a success, so the reviewer's own sign-ins, however many, never
 * use the bound up; wrong codes are never forgotten (a success does not reset the count), so an
 * attacker gets no more guesses for each sign-in of the real reviewer. Successes are only ever added,
 * and a stale look at them refuses more, never less: the bound holds however the calls interleave.
 * A refused check keeps its slot: giving it back would let a late-comer's refusal free room for an
 * earlier guess still on its way to the comparison, and the bound would no longer hold. So more than
 * `maxFailuresPerDay` checks of one number in flight at once can refuse a right code too.
 *
 * The counters are bucketed by UTC day (`floor(now / 24 h)` in the key), so attempts and successes
 * always count over the same window: a store's window end is not a stable name to share.
 */
export class ReviewerCodes {
  constructor(
    private readonly limiter: RateLimiter,
    private readonly maxFailuresPerDay: number,
    private readonly logger: Logger,
  ) {}

  /**
   * Compares `digits` with the number's `fixed` code in constant time: 400 `OTP_INVALID` when wrong,
   * 429 `OTP_TOO_MANY_ATTEMPTS` (Retry-After: the end of the UTC day) once the day's wrong codes are
   * used up, right code or not. `beforeConsume` runs after a match.
   */
  async verify(e164: string, digits: string, fixed: string, beforeConsume?: (phone: string) => unknown): Promise<void> {
    const day = Math.floor(Date.now() / (OTP_DAY_SECONDS * 1000));
    await this.takeSlot(e164, day);
    if (!safeEqual(digits, fixed)) {
      this.logger.warn(`Reviewer number ${maskPhone(e164)}: wrong fixed code`);
      throw new ArrafAuthException('OTP_INVALID');
    }
    await this.limiter.hitKey(otpKeys.reviewerSuccesses(e164, day), OTP_DAY_SECONDS);
    await beforeConsume?.(e164);
    this.logger.warn(`Reviewer number ${maskPhone(e164)} signed in with its fixed code (otp.testNumbers)`);
  }

  /**
   * Takes one attempt slot of `day`, or throws 429. A look without counting first, so a number past
   * its bound is refused without pushing the count further; then the atomic hit decides.
   */
  private async takeSlot(e164: string, day: number): Promise<void> {
    const attemptsKey = otpKeys.reviewerAttempts(e164, day);
    const successesKey = otpKeys.reviewerSuccesses(e164, day);
    const dayEnd = (day + 1) * OTP_DAY_SECONDS * 1000;
    const spent = async (attempts: number) =>
      attempts - ((await this.limiter.peekKey(successesKey))?.count ?? 0) > this.maxFailuresPerDay;
    const before = (await this.limiter.peekKey(attemptsKey))?.count ?? 0;
    if (await spent(before + 1)) throw tooManyRequests('OTP_TOO_MANY_ATTEMPTS', dayEnd);
    const attempt = await this.limiter.hitKey(attemptsKey, OTP_DAY_SECONDS);
    if (await spent(attempt.count)) throw tooManyRequests('OTP_TOO_MANY_ATTEMPTS', dayEnd);
  }
}
