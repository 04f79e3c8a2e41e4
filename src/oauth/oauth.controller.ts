import { Get, Header, Param, Query, Redirect, Req, Res, UseGuards, UseInterceptors } from '@nestjs/common';
import { AuthRoutes } from '../controllers/auth-routes.decorator.js';
import type { EdgeRequest } from '../controllers/edge-request.js';
import { SignIn, SignInInterceptor } from '../controllers/sign-in.interceptor.js';
import { Public } from '../decorators/public.decorator.js';
import type { User } from '../entities/user.entity.js';
import { RateLimit } from '../rate-limit/rate-limit.decorator.js';
import { RateLimitGuard } from '../rate-limit/rate-limit.guard.js';
import { appendHeader } from '../session/session-cookie.js';
import { OAuthService } from './oauth.service.js';
import { OAuthAuthGuard, type OAuthAuthInfo } from './oauth.strategy.js';

/**
 * The OAuth routes, mounted under `routes.path` by `mountController`:
 *
 * - `GET sign-in/:provider?redirectTo=` → 302 to the provider, with the check cookie;
 * - `GET callback/:provider?code&state` → 302 to `redirectTo` with a new session cookie.
 *
 * A callback that fails answers in the SPEC's JSON error shape, never with a redirect: 400
 * `OAUTH_STATE_MISMATCH` (no, forged, expired, replayed or other-provider check), 400
 * `OAUTH_PROVIDER_ERROR` (the user denied access, or the exchange or id_token failed), 409
 * `OAUTH_ACCOUNT_NOT_LINKED`, 502 `OAUTH_PROVIDER_UNAVAILABLE`; 404 `UNKNOWN_PROVIDER` on both.
 */
@AuthRoutes()
@Public()
export class OAuthController {
  constructor(readonly oauth: OAuthService) {}

  /** Redirects to the provider's authorization page. */
  @Get('sign-in/:provider')
  @Header('Cache-Control', 'no-store')
  @RateLimit('oauth-sign-in:ip')
  @UseGuards(RateLimitGuard)
  @Redirect()
  async signIn(
    @Param('provider') provider: string,
    @Query('redirectTo') redirectTo: unknown,
    @Res({ passthrough: true }) response: unknown,
  ) {
    const { url, cookie } = await this.oauth.startSignIn(provider, redirectTo);
    appendHeader(response, 'Set-Cookie', cookie);
    return { url, statusCode: 302 };
  }

  /** The provider sends the browser back here; {@link OAuthAuthGuard} has verified it and found the user. */
  @Get('callback/:provider')
  @Header('Cache-Control', 'no-store')
  @RateLimit('oauth-callback:ip')
  @UseGuards(RateLimitGuard, OAuthAuthGuard)
  @UseInterceptors(SignInInterceptor)
  @Redirect()
  callback(@Req() request: EdgeRequest): SignIn | { url: string; statusCode: number } {
    const info = request.authInfo as OAuthAuthInfo;
    // A link keeps the session that started it: back to `redirectTo`, no new session.
    if (info.linked) return { url: info.redirectTo, statusCode: 302 };
    return new SignIn(request.user as User, 'oauth', { redirectTo: info.redirectTo });
  }
}
