import { applyDecorators, HttpCode, Post, Req, Res, UseGuards, UseInterceptors } from '@nestjs/common';
import { AuthRoutes } from '../controllers/auth-routes.decorator.js';
import type { EdgeRequest } from '../controllers/edge-request.js';
import { OriginGuard } from '../controllers/origin.guard.js';
import { SignInInterceptor } from '../controllers/sign-in.interceptor.js';
import { CurrentSession } from '../decorators/current-session.decorator.js';
import { CurrentUser } from '../decorators/current-user.decorator.js';
import { Public } from '../decorators/public.decorator.js';
import { RequireFreshSession } from '../decorators/require-fresh-session.decorator.js';
import type { Session } from '../entities/session.entity.js';
import type { User } from '../entities/user.entity.js';
import { ArrafAuthException } from '../errors/arraf-auth.exception.js';
import { PasswordService } from '../password/password.service.js';
import { RateLimit } from '../rate-limit/rate-limit.decorator.js';
import { RateLimitGuard } from '../rate-limit/rate-limit.guard.js';
import { readTwoFactorBody } from '../schemas/two-factor-bodies.js';
import { SessionCookie } from '../session/session-cookie.js';
import { toPublicSession, toPublicUser } from '../session/session.serializer.js';
import { eventClientOf } from '../security-events/security-event-client.js';
import { SessionGuard } from '../session/session.guard.js';
import { SessionService } from '../session/session.service.js';
import { AllowWithoutTwoFactor } from './require-two-factor.decorator.js';
import { TwoFactorSignIn } from './two-factor-sign-in.js';
import { TwoFactorPendingCookie } from './two-factor-pending-cookie.js';
import { TwoFactorPendingService } from './two-factor-pending.service.js';
import { type FactorChangeOptions, TwoFactorService } from './two-factor.service.js';

/**
 * The second-factor routes, mounted under `routes.path` by `mountController`: `POST two-factor/enable`,
 * `confirm`, `disable`, `backup-codes` (signed in; enabling, disabling and regenerating need a fresh
 * session) and `POST two-factor/verify`, which completes a pending sign-in (pending cookie) or steps a
 * session up.
 */
@AuthRoutes(OriginGuard)
export class TwoFactorController {
  constructor(
    readonly twoFactor: TwoFactorService,
    readonly pending: TwoFactorPendingService,
    readonly pendingCookie: TwoFactorPendingCookie,
    readonly sessions: SessionService,
    readonly cookie: SessionCookie,
    readonly passwords: PasswordService,
    readonly twoFactorSignIn: TwoFactorSignIn,
  ) {}

  /** `{ password? }` → `{ totpUri, qrCode, backupCodes }`; active after `confirm`. */
  @FactorChange('two-factor/enable')
  @AllowWithoutTwoFactor()
  async enable(@Req() request: EdgeRequest, @CurrentUser() user: User) {
    const { password } = readTwoFactorBody(request, 'twoFactorEnable', true);
    if (password !== undefined) await this.checkPassword(user, password);
    return this.twoFactor.enable(user);
  }

  /**
   * `{ code, revokeOtherSessions? }` from the authenticator app → active; the session counts as
   * having passed it. With `revokeOtherSessions: true`, `revoked` counts the other sessions ended.
   */
  @Post('two-factor/confirm')
  @HttpCode(200)
  @UseGuards(SessionGuard)
  @AllowWithoutTwoFactor()
  async confirm(@Req() request: EdgeRequest, @CurrentUser() user: User, @CurrentSession() session: Session) {
    const { code, revokeOtherSessions } = readTwoFactorBody(request, 'twoFactorCode');
    const revoked = await this.twoFactor.confirm(user.id, code, changeOptions(request, revokeOtherSessions, session));
    await this.twoFactor.recordProof(session.id);
    return withRevoked({ success: true }, revokeOtherSessions, revoked);
  }

  /** `{ code }` or `{ backupCode }`, and `revokeOtherSessions?` → second factor off, backup codes void. */
  @FactorChange('two-factor/disable')
  async disable(@Req() request: EdgeRequest, @CurrentUser() user: User, @CurrentSession() session: Session) {
    const { revokeOtherSessions, ...input } = readTwoFactorBody(request, 'twoFactorDisable');
    const options = changeOptions(request, revokeOtherSessions, session);
    return withRevoked({ success: true }, revokeOtherSessions, await this.twoFactor.disable(user.id, input, options));
  }

  /** A new set of backup codes (the old set stops working); optional body `{ revokeOtherSessions? }`. */
  @FactorChange('two-factor/backup-codes')
  async backupCodes(@Req() request: EdgeRequest, @CurrentUser() user: User, @CurrentSession() session: Session) {
    const { revokeOtherSessions } = readTwoFactorBody(request, 'twoFactorBackupCodes', true);
    const options = changeOptions(request, revokeOtherSessions, session);
    const { backupCodes, revoked } = await this.twoFactor.regenerateBackupCodes(user.id, options);
    return withRevoked({ backupCodes }, revokeOtherSessions, revoked);
  }

  /**
   * `{ code }` or `{ backupCode }`. With the pending cookie: completes the sign-in (`{ user,
   * session }` and the session cookie, through the one sign-in edge). With a session and no
   * pending cookie: step-up for `@RequireTwoFactor()` routes.
   */
  @Post('two-factor/verify')
  @Public()
  @HttpCode(200)
  @RateLimit('sign-in:ip')
  @UseGuards(RateLimitGuard)
  @UseInterceptors(SignInInterceptor)
  async verify(@Req() request: EdgeRequest, @Res({ passthrough: true }) response: unknown) {
    const body = readTwoFactorBody(request, 'secondFactor');
    const pendingToken = this.pendingCookie.read(request.headers);
    if (pendingToken !== undefined) {
      const completed = await this.pending.complete(pendingToken, body, eventClientOf(request));
      this.pendingCookie.clear(response);
      return this.twoFactorSignIn.completed(completed);
    }
    const active = await this.sessions.getSession(this.cookie.read(request.headers)?.token);
    if (!active) throw new ArrafAuthException('TWO_FACTOR_PENDING_EXPIRED');
    await this.twoFactor.requireValid(active.user.id, body, eventClientOf(request));
    await this.twoFactor.recordProof(active.session.id);
    return { user: toPublicUser(active.user), session: toPublicSession(active.session) };
  }

  private async checkPassword(user: User, password: string): Promise<void> {
    if (user.email === null) throw new ArrafAuthException('INVALID_CREDENTIALS');
    const proven = await this.passwords.authenticate(user.email, password);
    if (proven.id !== user.id) throw new ArrafAuthException('INVALID_CREDENTIALS');
  }
}

/** A route that changes the second factor: `POST`, 200, signed in with a fresh session. */
function FactorChange(path: string): MethodDecorator {
  return applyDecorators(Post(path), HttpCode(200), UseGuards(SessionGuard), RequireFreshSession());
}

/** Who asks for a change, keeping the current session when the owner asks to end the others. */
function changeOptions(
  request: EdgeRequest,
  revokeOtherSessions: boolean | undefined,
  session: Session,
): FactorChangeOptions {
  const client = eventClientOf(request);
  return revokeOtherSessions === true ? { ...client, revokeOtherSessionsExcept: session.id } : client;
}

/** The answer, with `revoked` (other sessions ended) when the owner asked for it. */
function withRevoked<T extends object>(answer: T, revokeOtherSessions: boolean | undefined, revoked: number) {
  return revokeOtherSessions === true ? { ...answer, revoked } : answer;
}
