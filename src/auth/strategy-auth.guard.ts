import { type CanActivate, type ExecutionContext, Inject, Injectable, type Type } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import passport from 'passport';
import { type EdgeRequest, httpOf } from '../controllers/edge-request.js';
import { OriginGuard } from '../controllers/origin.guard.js';
import { ARRAF_AUTH_OPTIONS } from '../arraf-auth.constants.js';
import type { ResolvedArrafAuthOptions } from '../options/arraf-auth-options.interface.js';
import { AuthService } from './auth.service.js';
import { ArrafAuthException } from '../errors/arraf-auth.exception.js';
import type { ArrafAuthErrorCode } from '../errors/error-codes.js';
import { BodyReader } from '../schemas/body.guard.js';
import type { BodySchemaName, ParsedBody } from '../schemas/request-bodies.js';
import { eventClientOf } from '../security-events/security-event-client.js';
import { SecurityEventsService } from '../security-events/security-events.service.js';

/** How a failed sign-in is recorded: its method and the account it named, when one is known. */
export interface FailedSignIn {
  method: string;
  userId: string | null;
}

/**
 * Refusals that are not an attempt at a credential (malformed, throttled, unavailable, a provider
 * that does not exist): not recorded.
 */
const NOT_AN_ATTEMPT = new Set<string>([
  'INVALID_INPUT',
  'RATE_LIMITED',
  'SERVICE_UNAVAILABLE',
  'INVALID_ORIGIN',
  'UNKNOWN_PROVIDER',
]);

interface Outcome {
  error?: unknown;
  user?: unknown;
  info?: unknown;
}

/**
 * The one way the library runs its Passport strategies (`OtpAuthGuard`, `PasswordAuthGuard`,
 * `OAuthAuthGuard`): the strategy instance is the application's own provider (so
 * `overrideProvider(...)` reaches it and several applications in one process never answer with
 * each other's configuration, which Passport's process-wide registry by name would do); a
 * strategy error is answered as is and "no user" as the guard's one `failureCode`; the result is
 * `request.user` plus `request.authInfo` (the strategy's `[user, info]`). The origin check runs first
 * (once per request), so an application's own sign-in route is protected from login CSRF too.
 */
@Injectable()
export abstract class StrategyAuthGuard implements CanActivate {
  /** The strategy class, registered by the module. */
  protected abstract readonly strategyType: Type<passport.Strategy>;
  /** What "no user" is answered with. */
  protected abstract readonly failureCode: ArrafAuthErrorCode;
  private strategy?: passport.Strategy;

  constructor(@Inject(ModuleRef) protected readonly moduleRef: ModuleRef) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    // Login CSRF: on an application's own route that did not declare the OriginGuard, check here
    // (a route that did is not checked twice).
    this.moduleRef.get(OriginGuard, { strict: false }).canActivate(context);
    const { request, response } = httpOf(context);
    const { error, user, info } = await this.authenticate(request, response);
    if (error || !user) await this.recordFailure(request, error);
    request.user = this.handleRequest(error, user);
    request.authInfo = info;
    return true;
  }

  /** Rethrows the strategy's error (already in the library's shape); no user is `failureCode`. */
  protected handleRequest<TUser>(error: unknown, user: TUser | false | undefined): TUser {
    if (error) throw error;
    if (!user) throw new ArrafAuthException(this.failureCode);
    return user;
  }

  /**
   * What a failed attempt is recorded as (`sign_in.failed`); `null` records nothing. The account is
   * named only by its id, and only when it exists: an unknown identifier is never stored.
   */
  protected failedSignIn(_request: EdgeRequest): Promise<FailedSignIn | null> {
    return Promise.resolve(null);
  }

  /** A failed attempt by `method` on the account `find` returns (verified phone or email owner), if any. */
  protected async failedOn(
    method: string,
    find: (auth: AuthService, options: ResolvedArrafAuthOptions) => Promise<{ id: string } | null>,
  ): Promise<FailedSignIn> {
    const options = this.moduleRef.get<ResolvedArrafAuthOptions>(ARRAF_AUTH_OPTIONS, { strict: false });
    const user = await find(this.moduleRef.get(AuthService, { strict: false }), options);
    return { method, userId: user?.id ?? null };
  }

  /**
   * A failed attempt by `method` on the account `find` names from the request's validated `schema`
   * body (read once per request: the strategy has read it already).
   */
  protected failedOnBody<N extends BodySchemaName>(
    request: EdgeRequest,
    schema: N,
    method: string,
    find: (auth: AuthService, body: ParsedBody<N>, options: ResolvedArrafAuthOptions) => Promise<{ id: string } | null>,
  ): Promise<FailedSignIn> {
    const body = this.moduleRef.get(BodyReader, { strict: false }).read(request, schema);
    return this.failedOn(method, (auth, options) => find(auth, body, options));
  }

  /** Records a failed attempt; a failure to record is logged and never changes the answer. */
  private async recordFailure(request: EdgeRequest, error: unknown): Promise<void> {
    const code = error instanceof ArrafAuthException ? error.code : error ? null : this.failureCode;
    if (code === null || NOT_AN_ATTEMPT.has(code)) return;
    // An identifier that does not parse names no account: recorded without one.
    const failed = await this.failedSignIn(request).catch((): FailedSignIn | null => null);
    if (!failed) return;
    await this.moduleRef.get(SecurityEventsService, { strict: false }).recordQuietly({
      type: 'sign_in.failed',
      userId: failed.userId,
      method: failed.method,
      ...eventClientOf(request),
      detail: { reason: code },
    });
  }

  private authenticate(request: EdgeRequest, response: unknown): Promise<Outcome> {
    this.strategy ??= this.moduleRef.get(this.strategyType, { strict: false });
    // Passport attaches success/fail/error to the strategy object it runs: one object per request.
    const perRequest = Object.create(this.strategy) as passport.Strategy;
    return new Promise<Outcome>((resolve) => {
      passport.authenticate(perRequest, { session: false }, (error: unknown, user: unknown, info: unknown) =>
        resolve({ error, user, info }),
      )(request, response, (error: unknown) => resolve({ error: error ?? new ArrafAuthException(this.failureCode) }));
    });
  }
}
