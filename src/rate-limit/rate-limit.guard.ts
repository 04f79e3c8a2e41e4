import { type CanActivate, type ExecutionContext, Inject, Injectable, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ARRAF_AUTH_OPTIONS, RATE_LIMIT_STORE } from '../arraf-auth.constants.js';
import { normalizeEmail } from '../auth/email.util.js';
import { type EdgeRequest, httpOf } from '../controllers/edge-request.js';
import { ArrafAuthException } from '../errors/arraf-auth.exception.js';
import type { ResolvedArrafAuthOptions } from '../options/arraf-auth-options.interface.js';
import { parsePhone } from '../phone/normalize-phone.js';
import { PARSED_BODY } from '../schemas/request-body.decorator.js';
import { clientIpBucket } from './client-ip.js';
import type { RateLimitRule } from './rate-limit.constants.js';
import { RATE_LIMIT_KEY, type RateLimitSpec } from './rate-limit.decorator.js';
import { tooManyRequests } from './rate-limit.errors.js';
import { rateLimitKey } from './rate-limiter.js';
import type { RateLimitHit, RateLimitStore } from './rate-limit-store.interface.js';

/**
 * Counts the rules a route declares with `@RateLimit(...)` against the store of the
 * `RATE_LIMIT_STORE` token, the way `ThrottlerGuard` does: one atomic hit per rule and subject,
 * 429 `RATE_LIMITED` with `Retry-After` past the limit of `rateLimit.limits[rule]`. A store that
 * fails refuses the request (503 `SERVICE_UNAVAILABLE`), never lets it through unlimited.
 * List it after the guards that establish what it counts (`BodyGuard`, `SessionGuard`).
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  private readonly logger = new Logger('ArrafAuth');

  constructor(
    protected readonly reflector: Reflector,
    @Inject(RATE_LIMIT_STORE) protected readonly store: RateLimitStore,
    @Inject(ARRAF_AUTH_OPTIONS) protected readonly options: ResolvedArrafAuthOptions,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const specs = this.reflector.getAllAndOverride<RateLimitSpec[] | undefined>(RATE_LIMIT_KEY, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (!specs || (await this.shouldSkip(context))) return true;
    const { request } = httpOf(context);
    const body = request[PARSED_BODY] as { value?: Record<string, unknown> } | undefined;
    for (const spec of specs) {
      if (spec.when && !Object.entries(spec.when).every(([key, value]) => body?.value?.[key] === value)) continue;
      const { limit, window } = this.options.rateLimit.limits[spec.rule];
      for (const tracker of this.getTracker(spec.rule, request)) {
        const hit = await this.hit(rateLimitKey(spec.rule, tracker), window);
        if (hit.count > limit) this.throwRateLimited(spec.rule, hit);
      }
    }
    return true;
  }

  /** Override to exempt requests (an internal health check, a trusted client). */
  protected async shouldSkip(_context: ExecutionContext): Promise<boolean> {
    return false;
  }

  /**
   * What `rule` counts for this request: the client address for `:ip` rules (as the platform
   * reports it, which honours the application's trust-proxy setting), the normalised email and
   * E.164 phone of the body for `:identifier` rules, the signed-in user for `:account` rules.
   */
  protected getTracker(rule: RateLimitRule, request: EdgeRequest): string[] {
    if (rule.endsWith(':ip')) return [clientIpBucket(request.ip)];
    if (rule.endsWith(':account')) {
      const id = (request.user as { id?: unknown } | undefined)?.id;
      if (typeof id !== 'string') throw new ArrafAuthException('UNAUTHENTICATED');
      return [id];
    }
    const body = (request[PARSED_BODY] as { value?: { email?: unknown; phone?: unknown } } | undefined)?.value;
    const trackers: string[] = [];
    if (typeof body?.email === 'string') trackers.push(normalizeEmail(body.email));
    if (typeof body?.phone === 'string') trackers.push(parsePhone(body.phone, this.options.phone.defaultCountry).e164);
    return trackers;
  }

  /** Throws the 429 with `Retry-After`. Override to answer differently. */
  protected throwRateLimited(_rule: RateLimitRule, hit: RateLimitHit): never {
    throw tooManyRequests('RATE_LIMITED', hit.resetAt);
  }

  private async hit(key: string, window: number): Promise<RateLimitHit> {
    try {
      return await this.store.hit(key, window);
    } catch (error) {
      if (error instanceof ArrafAuthException) throw error;
      this.logger.error(
        `Rate-limit store failed; refusing the request: ${error instanceof Error ? error.message : String(error)}`,
      );
      throw new ArrafAuthException('SERVICE_UNAVAILABLE', { cause: error });
    }
  }
}
