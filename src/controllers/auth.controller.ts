import { Delete, Get, HttpCode, Inject, Param, Post, Req, Res, UseGuards } from '@nestjs/common';
import { AuthRoutes } from './auth-routes.decorator.js';
import { ARRAF_AUTH_OPTIONS } from '../arraf-auth.constants.js';
import { CurrentSession } from '../decorators/current-session.decorator.js';
import { CurrentUser } from '../decorators/current-user.decorator.js';
import { Public } from '../decorators/public.decorator.js';
import { RequireFreshSession } from '../decorators/require-fresh-session.decorator.js';
import type { Session } from '../entities/session.entity.js';
import type { User } from '../entities/user.entity.js';
import { ArrafAuthException } from '../errors/arraf-auth.exception.js';
import type { ResolvedArrafAuthOptions } from '../options/arraf-auth-options.interface.js';
import { SessionCookie } from '../session/session-cookie.js';
import { toPublicSession, toPublicUser } from '../session/session.serializer.js';
import { SessionGuard } from '../session/session.guard.js';
import { SessionService } from '../session/session.service.js';
import type { EdgeRequest } from './edge-request.js';
import { OriginGuard } from './origin.guard.js';
import { TwoFactorService } from '../two-factor/two-factor.service.js';
import { eventClientOf } from '../security-events/security-event-client.js';
import type { SecurityEventDetail, SecurityEventInput } from '../security-events/security-event.types.js';
import { UUID } from '../utils/uuid.js';

/**
 * The session routes, mounted under `routes.path` by `mountController`: `GET session`,
 * `POST sign-out`, `GET sessions`, `DELETE sessions/:id`, `POST sessions/revoke-others`.
 */
@AuthRoutes(OriginGuard)
export class AuthController {
  constructor(
    readonly sessions: SessionService,
    readonly cookie: SessionCookie,
    @Inject(ARRAF_AUTH_OPTIONS) readonly options: ResolvedArrafAuthOptions,
    readonly twoFactor: TwoFactorService,
  ) {}

  /**
   * The current user and session, or nulls; never 401. Clears a cookie that no longer works.
   * `@Public()`: an application's global `SessionGuard` must not turn "signed out" into a 401 here.
   */
  @Get('session')
  @Public()
  async getSession(@Req() request: EdgeRequest, @Res({ passthrough: true }) response: unknown) {
    const credential = this.cookie.read(request.headers);
    const active = await this.sessions.getSession(credential?.token);
    if (!active) {
      if (credential?.source === 'cookie') this.cookie.clear(response);
      return { user: null, session: null };
    }
    if (active.cookieValue !== undefined && credential?.source === 'cookie') {
      this.cookie.write(response, active.cookieValue, active.session.expiresAt, 'cookie');
    }
    const methods = await this.twoFactor.methodsOf(active.user.id);
    return {
      user: toPublicUser(active.user),
      session: toPublicSession(active.session),
      twoFactor: { enabled: methods.length > 0, methods },
    };
  }

  /**
   * Revokes the current session (if any) and clears the cookie. `@Public()`: works with a dead
   * session too. A cookie request from another site is refused by the OriginGuard (logout CSRF).
   */
  @Post('sign-out')
  @Public()
  @HttpCode(200)
  async signOut(@Req() request: EdgeRequest, @Res({ passthrough: true }) response: unknown) {
    const active = await this.sessions.getSession(this.cookie.read(request.headers)?.token);
    if (active) {
      await this.options.hooks.beforeSignOut?.({ user: active.user, session: active.session });
      await this.sessions.revokeSession(active.session.id, undefined, {
        event: { type: 'sign_out', userId: active.user.id, ...eventClientOf(request) },
      });
    }
    this.cookie.clear(response);
    return { success: true };
  }

  /** The signed-in user's active sessions, with the current one marked. */
  @Get('sessions')
  @UseGuards(SessionGuard)
  async listSessions(@CurrentUser() user: User, @CurrentSession() session: Session) {
    return { sessions: await this.sessions.listSessions(user.id, session.id) };
  }

  /** Revokes one of the user's sessions; another device's needs a fresh sign-in. */
  @Delete('sessions/:id')
  @UseGuards(SessionGuard)
  async revokeSession(
    @Req() request: EdgeRequest,
    @Param('id') id: string,
    @CurrentUser() user: User,
    @CurrentSession() session: Session,
    @Res({ passthrough: true }) response: unknown,
  ) {
    if (!UUID.test(id)) throw new ArrafAuthException('INVALID_INPUT', { field: 'id' });
    const current = id === session.id;
    if (!current && !this.sessions.isFresh(session)) throw new ArrafAuthException('SESSION_NOT_FRESH');
    const event = revoked(request, user, { sessionId: id });
    if (!(await this.sessions.revokeSession(id, user.id, { event }))) throw new ArrafAuthException('SESSION_NOT_FOUND');
    if (current) this.cookie.clear(response);
    return { success: true };
  }

  /** Revokes every other session of the user ("sign out other devices"). */
  @Post('sessions/revoke-others')
  @HttpCode(200)
  @UseGuards(SessionGuard)
  @RequireFreshSession()
  async revokeOthers(@Req() request: EdgeRequest, @CurrentUser() user: User, @CurrentSession() session: Session) {
    const event = revoked(request, user, { others: true });
    return { success: true, revoked: await this.sessions.revokeOtherSessions(user.id, session.id, { event }) };
  }
}

/** The `session.revoked` event of a revocation the user asked for. */
function revoked(request: EdgeRequest, user: User, detail: SecurityEventDetail): SecurityEventInput {
  return { type: 'session.revoked', userId: user.id, ...eventClientOf(request), detail };
}
