import { type CanActivate, type ExecutionContext, Inject, Injectable, Optional } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ARRAF_AUTH_OPTIONS, IS_PUBLIC_KEY, REQUEST_SESSION_KEY, REQUIRE_FRESH_KEY } from '../arraf-auth.constants.js';
import { RouteFlag } from '../context/route-flag.js';
import { getTransportContext, type TransportContext } from '../context/transport-context.js';
import { ArrafAuthException } from '../errors/arraf-auth.exception.js';
import { toWsException } from '../errors/transport-errors.js';
import type { ResolvedArrafAuthOptions } from '../options/arraf-auth-options.interface.js';
import { TwoFactorEnrolmentCheck } from '../two-factor/two-factor-enrolment.check.js';
import { isStateChanging, isTrustedOrigin } from './origin.util.js';
import { SessionCookie, type SessionCredential } from './session-cookie.js';
import { type ActiveSession, SessionService } from './session.service.js';

/** Where a SessionGuard leaves what it resolved, so a second SessionGuard on the request reuses it. */
const CHECKED_SESSION = Symbol('arraf-auth:checked-session');

/**
 * Lets a request through only with a valid session, on HTTP (Express, Fastify), GraphQL (Apollo,
 * Mercurius) and WebSockets (socket.io, `ws`): sets `user` (the `User`) and the session for
 * `@CurrentUser()` / `@CurrentSession()`, re-issues the token on sliding renewal (`Set-Cookie`, or
 * `Set-Auth-Token` for bearer clients) where there is an HTTP response, and refuses with
 * `UNAUTHENTICATED` otherwise: a 401 JSON error over HTTP, `extensions.code` in GraphQL, the
 * `exception` event on sockets. Use per handler or class (`@UseGuards(SessionGuard)`) or as
 * `APP_GUARD` with `@Public()` to opt out. Subclass and override the protected hooks to customise it.
 *
 * On WebSockets the handshake's credential is checked on every message, not once per connection:
 * a session revoked or expired while the socket is open stops being accepted at the next message.
 *
 * When the answer is in memory (a `session.cache` hit with nothing to write, or a second guard on
 * the same request) `canActivate` returns `true` synchronously: no promise, no database. Route
 * metadata is read once per handler and class.
 */
@Injectable()
export class SessionGuard implements CanActivate {
  private readonly publicRoutes: RouteFlag;
  private readonly freshRoutes: RouteFlag;
  /**
   * `SessionService.checkSession` (synchronous when the answer is in memory), unless `getSession`
   * was replaced (`overrideProvider(SessionService)`, a subclass): then that, as before.
   */
  private readonly lookUp: (credential: string) => ActiveSession | null | Promise<ActiveSession | null>;

  constructor(
    protected readonly sessions: SessionService,
    protected readonly reflector: Reflector,
    @Inject(ARRAF_AUTH_OPTIONS) protected readonly options: ResolvedArrafAuthOptions,
    protected readonly cookie: SessionCookie,
    // Optional so subclasses written before second factors keep compiling; the module provides it.
    @Optional() protected readonly enrolment?: TwoFactorEnrolmentCheck,
  ) {
    this.publicRoutes = new RouteFlag(reflector, IS_PUBLIC_KEY);
    this.freshRoutes = new RouteFlag(reflector, REQUIRE_FRESH_KEY);
    const own =
      sessions.getSession === SessionService.prototype.getSession && typeof sessions.checkSession === 'function';
    this.lookUp = own
      ? (credential) => sessions.checkSession(credential)
      : (credential) => sessions.getSession(credential);
  }

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    if (this.shouldSkip(context)) return true;
    const transport = getTransportContext(context);
    try {
      const pending = this.authenticate(context, transport);
      return pending === undefined
        ? true
        : pending.then(
            () => true,
            (error: unknown) => this.refuse(transport, error),
          );
    } catch (error) {
      return this.refuse(transport, error);
    }
  }

  /** Routes marked `@Public()` skip the guard. */
  protected shouldSkip(context: ExecutionContext): boolean {
    return this.publicRoutes.of(context);
  }

  /** Routes marked `@RequireFreshSession()` need a recent sign-in. */
  protected requiresFreshSession(context: ExecutionContext): boolean {
    return this.freshRoutes.of(context);
  }

  /** Throws the refusal. Override to redirect or to answer differently. */
  protected throwUnauthenticated(_context: ExecutionContext): never {
    throw new ArrafAuthException('UNAUTHENTICATED');
  }

  /** Nest's socket handling emits only a WsException's payload; anything else becomes "Internal server error". */
  private refuse(transport: TransportContext | undefined, error: unknown): never | Promise<never> {
    if (transport?.type !== 'ws' || !(error instanceof ArrafAuthException)) throw error;
    return toWsException(error).then((wsError) => {
      throw wsError;
    });
  }

  /** Returns `undefined` when done without waiting (the answer was in memory), else the promise to wait for. */
  private authenticate(context: ExecutionContext, transport: TransportContext | undefined): Promise<void> | undefined {
    if (!transport) this.throwUnauthenticated(context);
    const { holder } = transport;
    // One lookup per HTTP request (a global and a route-level guard, several GraphQL fields). Never
    // kept on a socket: it lives across messages and each message is checked again.
    const checked = transport.type === 'ws' ? undefined : (holder[CHECKED_SESSION] as ActiveSession | undefined);
    if (checked) return this.admit(context, transport, checked, undefined);
    const credential = this.cookie.read(transport.headers);
    if (!credential) this.throwUnauthenticated(context);
    // Before the lookup: a cross-site request costs no database work.
    if (!this.passesOriginCheck(transport, credential)) throw new ArrafAuthException('INVALID_ORIGIN');
    const found = this.lookUp(credential.token);
    if (found === null || !('then' in found)) return this.admit(context, transport, found, credential);
    return found.then((active) => this.admit(context, transport, active, credential));
  }

  /** The checks that depend on the route, then `user` and the session on the holder, and renewal. */
  private admit(
    context: ExecutionContext,
    transport: TransportContext,
    active: ActiveSession | null,
    credential: SessionCredential | undefined,
  ): Promise<void> | undefined {
    if (!active) this.throwUnauthenticated(context);
    if (this.requiresFreshSession(context) && !this.sessions.isFresh(active.session)) {
      throw new ArrafAuthException('SESSION_NOT_FRESH');
    }
    const enrolled = this.enrolment?.assertEnrolled(context, active.user.id, active.secondFactor);
    if (enrolled === undefined) return this.settle(transport, active, credential);
    return enrolled.then(() => this.settle(transport, active, credential));
  }

  /** Leaves `user` and the session for the handler, and hands a renewed credential back. */
  private settle(
    transport: TransportContext,
    active: ActiveSession,
    credential: SessionCredential | undefined,
  ): undefined {
    const { holder } = transport;
    holder.user = active.user;
    holder[REQUEST_SESSION_KEY] = active.session;
    if (!credential) return undefined;
    if (transport.type !== 'ws') holder[CHECKED_SESSION] = active;
    if (active.cookieValue !== undefined && transport.response !== undefined) {
      this.cookie.write(transport.response, active.cookieValue, active.session.expiresAt, credential.source);
    }
    return undefined;
  }

  /**
   * CSRF defence for cookie credentials: state-changing HTTP requests (GraphQL POSTs included) and
   * every WebSocket handshake (cross-site WebSocket hijacking) must come from a trusted origin.
   * Bearer tokens are never sent by a browser on its own, so they skip it. The same rule as the
   * module's own routes (`OriginGuard`): a browser sends `Origin` on every such request, so a cookie
   * without `Origin` or `Referer` is refused too, unless `allowMissingOrigin`.
   */
  private passesOriginCheck(transport: TransportContext, credential: SessionCredential): boolean {
    if (credential.source !== 'cookie') return true;
    const method = transport.method ?? 'GET';
    if (transport.type !== 'ws' && !isStateChanging(method)) return true;
    const requireHeader = !this.options.allowMissingOrigin;
    return isTrustedOrigin({ method, headers: transport.headers ?? {} }, this.options.trustedOrigins, {
      requireHeader,
    });
  }
}
