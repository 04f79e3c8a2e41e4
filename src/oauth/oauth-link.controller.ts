import { Get, Header, Param, Query, Redirect, Res, UseGuards } from '@nestjs/common';
import { AuthRoutes } from '../controllers/auth-routes.decorator.js';
import { CurrentUser } from '../decorators/current-user.decorator.js';
import { RequireFreshSession } from '../decorators/require-fresh-session.decorator.js';
import { RateLimit } from '../rate-limit/rate-limit.decorator.js';
import { RateLimitGuard } from '../rate-limit/rate-limit.guard.js';
import { appendHeader } from '../session/session-cookie.js';
import { SessionGuard } from '../session/session.guard.js';
import { OAuthService } from './oauth.service.js';

/**
 * `GET link/:provider?redirectTo=` (signed in, fresh session): 302 to the provider through the same
 * state/PKCE/nonce flow as a sign-in, with the check cookie bound to the signed-in user; the
 * provider's callback (`GET callback/:provider`) then links the identity to that user and redirects
 * to `redirectTo` without a new session. 409 `OAUTH_ACCOUNT_IN_USE` when the identity belongs to
 * another user.
 */
@AuthRoutes()
export class OAuthLinkController {
  constructor(readonly oauth: OAuthService) {}

  @Get('link/:provider')
  @Header('Cache-Control', 'no-store')
  @RequireFreshSession()
  @RateLimit('oauth-sign-in:ip')
  @UseGuards(SessionGuard, RateLimitGuard)
  @Redirect()
  async link(
    @Param('provider') provider: string,
    @Query('redirectTo') redirectTo: unknown,
    @CurrentUser('id') userId: string,
    @Res({ passthrough: true }) response: unknown,
  ) {
    const { url, cookie } = await this.oauth.startSignIn(provider, redirectTo, userId);
    appendHeader(response, 'Set-Cookie', cookie);
    return { url, statusCode: 302 };
  }
}
