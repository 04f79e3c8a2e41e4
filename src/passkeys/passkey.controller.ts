import { Delete, Get, HttpCode, Param, Patch, Post, Req, Res, UseGuards, UseInterceptors } from '@nestjs/common';
import { AuthRoutes } from '../controllers/auth-routes.decorator.js';
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import type { EdgeRequest } from '../controllers/edge-request.js';
import { OriginGuard } from '../controllers/origin.guard.js';
import { SignIn, SignInInterceptor } from '../controllers/sign-in.interceptor.js';
import { CurrentUser } from '../decorators/current-user.decorator.js';
import { Public } from '../decorators/public.decorator.js';
import { RequireFreshSession } from '../decorators/require-fresh-session.decorator.js';
import type { User } from '../entities/user.entity.js';
import { ArrafAuthException } from '../errors/arraf-auth.exception.js';
import { RateLimit } from '../rate-limit/rate-limit.decorator.js';
import { RateLimitGuard } from '../rate-limit/rate-limit.guard.js';
import { readTwoFactorBody } from '../schemas/two-factor-bodies.js';
import { eventClientOf } from '../security-events/security-event-client.js';
import { SessionGuard } from '../session/session.guard.js';
import { AllowWithoutTwoFactor } from '../two-factor/require-two-factor.decorator.js';
import { TwoFactorSignIn } from '../two-factor/two-factor-sign-in.js';
import { TwoFactorPendingCookie } from '../two-factor/two-factor-pending-cookie.js';
import { TwoFactorPendingService } from '../two-factor/two-factor-pending.service.js';
import { TwoFactorService } from '../two-factor/two-factor.service.js';
import { PasskeyService } from './passkey.service.js';

const PASSKEY_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The passkey routes, mounted under `routes.path` by `mountController`: registration (signed in, fresh), discoverable sign-in
 * (`authenticate/options` and `authenticate/verify`, which signs in through the one sign-in edge and
 * counts as two factors), and `GET passkeys`, `PATCH` / `DELETE passkeys/:id`. Without `appUrl`
 * every route answers 404 `NOT_FOUND`.
 */
@AuthRoutes(OriginGuard)
export class PasskeyController {
  constructor(
    readonly passkeys: PasskeyService,
    readonly twoFactor: TwoFactorService,
    readonly pending: TwoFactorPendingService,
    readonly pendingCookie: TwoFactorPendingCookie,
    readonly twoFactorSignIn: TwoFactorSignIn,
  ) {}

  @Post('passkey/register/options')
  @HttpCode(200)
  @UseGuards(SessionGuard)
  @RequireFreshSession()
  @AllowWithoutTwoFactor()
  registerOptions(@CurrentUser() user: User) {
    return this.passkeys.registrationOptions(user);
  }

  /** `{ response, name? }` → `{ passkey }`. */
  @Post('passkey/register/verify')
  @HttpCode(200)
  @UseGuards(SessionGuard)
  @RequireFreshSession()
  @AllowWithoutTwoFactor()
  async registerVerify(@Req() request: EdgeRequest, @CurrentUser() user: User) {
    const { response, name } = readTwoFactorBody(request, 'passkeyRegisterVerify');
    const registration = response as unknown as RegistrationResponseJSON;
    return { passkey: await this.passkeys.register(user, registration, name, eventClientOf(request)) };
  }

  @Post('passkey/authenticate/options')
  @Public()
  @HttpCode(200)
  // Each call stores a challenge or checks a signature without a session: counted per address.
  @RateLimit('sign-in:ip')
  @UseGuards(RateLimitGuard)
  authenticateOptions() {
    return this.passkeys.authenticationOptions();
  }

  /**
   * `{ response }` → `{ user, session }` and the session cookie; the session counts as two-factor.
   * With the pending cookie of a first factor, the passkey completes that sign-in, for its user only.
   */
  @Post('passkey/authenticate/verify')
  @Public()
  @HttpCode(200)
  // Each call stores a challenge or checks a signature without a session: counted per address.
  @RateLimit('sign-in:ip')
  @UseGuards(RateLimitGuard)
  @UseInterceptors(SignInInterceptor)
  async authenticateVerify(@Req() request: EdgeRequest, @Res({ passthrough: true }) reply: unknown) {
    const { response } = readTwoFactorBody(request, 'passkeyAuthenticateVerify');
    const client = eventClientOf(request);
    const user = await this.passkeys.authenticate(response as unknown as AuthenticationResponseJSON, client);
    const pendingToken = this.pendingCookie.read(request.headers);
    if (pendingToken !== undefined) {
      // Cleared whatever the outcome: completed, gone, or ended by a passkey of another account.
      this.pendingCookie.clear(reply);
      const completed = await this.pending.completeWithPasskey(pendingToken, user.id, client);
      if (completed) return this.twoFactorSignIn.completed(completed);
    }
    return new SignIn(user, 'passkey', {
      secondFactorPassed: true,
      after: (session) => this.twoFactor.recordProof(session.id),
    });
  }

  @Get('passkeys')
  @UseGuards(SessionGuard)
  @AllowWithoutTwoFactor()
  async list(@CurrentUser() user: User) {
    return { passkeys: await this.passkeys.list(user.id) };
  }

  /** `{ name }` → `{ passkey }`. */
  @Patch('passkeys/:id')
  @UseGuards(SessionGuard)
  async rename(@Req() request: EdgeRequest, @Param('id') id: string, @CurrentUser() user: User) {
    if (!PASSKEY_ID.test(id)) throw new ArrafAuthException('PASSKEY_NOT_FOUND');
    const { name } = readTwoFactorBody(request, 'passkeyRename');
    return { passkey: await this.passkeys.rename(user.id, id, name) };
  }

  @Delete('passkeys/:id')
  @UseGuards(SessionGuard)
  @RequireFreshSession()
  async remove(@Req() request: EdgeRequest, @Param('id') id: string, @CurrentUser() user: User) {
    if (!PASSKEY_ID.test(id)) throw new ArrafAuthException('PASSKEY_NOT_FOUND');
    await this.passkeys.remove(user.id, id, eventClientOf(request));
    return { success: true };
  }
}
