import { SetMetadata } from '@nestjs/common';
import type { RateLimitRule } from './rate-limit.constants.js';

/** Metadata key of {@link RateLimit}. */
export const RATE_LIMIT_KEY = 'ARRAF_AUTH:RATE_LIMIT';

/** One rule of a route, optionally only for bodies whose fields have the given values. */
export interface RateLimitSpec {
  rule: RateLimitRule;
  /** Applies only when the validated body has these values (`{ method: 'phone' }`). */
  when?: Readonly<Record<string, string>>;
}

/**
 * Declares the rate limits of a route, counted by `RateLimitGuard` in the order given. The rule's
 * suffix names what is counted: `:ip` the client address (IPv6 per /64), `:identifier` the
 * normalised email and phone of the validated body, `:account` the signed-in user.
 *
 * @example @RateLimit('sign-up:ip', 'sign-up:identifier') @UseGuards(RateLimitGuard)
 */
export function RateLimit(...rules: (RateLimitRule | RateLimitSpec)[]): MethodDecorator & ClassDecorator {
  const specs: RateLimitSpec[] = rules.map((rule) => (typeof rule === 'string' ? { rule } : rule));
  return SetMetadata(RATE_LIMIT_KEY, specs);
}
