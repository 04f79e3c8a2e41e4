import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ARRAF_AUTH_OPTIONS, IS_PUBLIC_KEY, REQUEST_SESSION_KEY, REQUIRE_FRESH_KEY } from '../arraf-auth.constants.js';
import { ArrafAuthException } from '../errors/arraf-auth.exception.js';
import type { ResolvedArrafAuthOptions } from '../options/arraf-auth-options.interface.js';
import { appendSetCookie, type HttpRequestLike, readSessionCredential, serializeSessionCookie } from './cookie.util.js';
import { isStateChanging, isTrustedOrigin } from './origin.util.js';
import { type ActiveSession, SessionService } from './session.service.js';

/** Where a SessionGuard leaves the session it resolved, so a second SessionGuard on the request reuses it. */
const CHECKED_SESSION = Symbol('arraf-auth:checked-session');

/**
 * Lets a request through only with a valid session: sets `request.user` (the `User`) and the
 * session for `@CurrentSession()`, re-issues the cookie on sliding renewal, and answers 401
 * `UNAUTHENTICATED` otherwise. Use per route (`@UseGuards(SessionGuard)`) or as `APP_GUARD`
 * with `@Public()` to opt out. Subclass and override the protected hooks to customise it.
 */
@Injectable()
export class SessionGuard implements CanActivate {
  constructor(
    protected readonly sessions: SessionService,
    protected readonly reflector: Reflector,
    @Inject(ARRAF_AUTH_OPTIONS) protected readonly options: ResolvedArrafAuthOptions,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (this.shouldSkip(context)) return true;
    if (context.getType() !== 'http') this.throwUnauthenticated(context);
    const http = context.switchToHttp();
    const request = http.getRequest<HttpRequestLike & Record<string | symbol, unknown>>();
    const { credential, fromCookie } = readSessionCredential(request, this.options.session);
    if (!credential) this.throwUnauthenticated(context);
    // Before the lookup: a cross-site request costs no database work.
    if (fromCookie && isStateChanging(request.method) && !isTrustedOrigin(request, this.options.trustedOrigins)) {
      throw new ArrafAuthException('INVALID_ORIGIN');
    }
    // A global SessionGuard and a route-level one both run on the same request: look up once.
    const checked = request[CHECKED_SESSION] as ActiveSession | undefined;
    const active = checked ?? (await this.sessions.getSession(credential));
    if (!active) this.throwUnauthenticated(context);
    if (this.requiresFreshSession(context) && !this.sessions.isFresh(active.session)) {
      throw new ArrafAuthException('SESSION_NOT_FRESH');
    }
    request.user = active.user;
    request[REQUEST_SESSION_KEY] = active.session;
    if (checked) return true;
    request[CHECKED_SESSION] = active;
    if (active.cookieValue !== undefined && fromCookie) this.reissueCookie(http.getResponse(), active);
    return true;
  }

  /** Routes marked `@Public()` skip the guard. */
  protected shouldSkip(context: ExecutionContext): boolean {
    return (
      this.reflector.getAllAndOverride<boolean>(IS_PUBLIC_KEY, [context.getHandler(), context.getClass()]) === true
    );
  }

  /** Routes marked `@RequireFreshSession()` need a recent sign-in. */
  protected requiresFreshSession(context: ExecutionContext): boolean {
    return (
      this.reflector.getAllAndOverride<boolean>(REQUIRE_FRESH_KEY, [context.getHandler(), context.getClass()]) === true
    );
  }

  /** Throws the 401. Override to redirect or to answer differently. */
  protected throwUnauthenticated(_context: ExecutionContext): never {
    throw new ArrafAuthException('UNAUTHENTICATED');
  }

  private reissueCookie(response: unknown, active: ActiveSession): void {
    const cookie = serializeSessionCookie(
      this.options.session,
      active.cookieValue!,
      this.sessions.cookieMaxAge(active.session),
    );
    appendSetCookie(response, cookie);
  }
}
