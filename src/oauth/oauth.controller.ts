import {
  Controller,
  Get,
  Header,
  Param,
  Query,
  Redirect,
  Req,
  Res,
  type Type,
  UseFilters,
  UseGuards,
} from '@nestjs/common';
import { AuthService } from '../auth/auth.service.js';
import { Public } from '../decorators/public.decorator.js';
import { ArrafAuthExceptionFilter } from '../errors/arraf-auth-exception.filter.js';
import { appendSetCookie } from '../session/cookie.util.js';
import { OAuthService } from './oauth.service.js';
import { OAuthAuthGuard, type OAuthAuthInfo, type OAuthCallbackRequest } from './oauth.strategy.js';
import type { User } from '../entities/user.entity.js';

/**
 * Builds the OAuth routes under `path` (the `routes.path` option):
 *
 * - `GET sign-in/:provider?redirectTo=` → 302 to the provider, with the check cookie;
 * - `GET callback/:provider?code&state` → 302 to `redirectTo` with a new session cookie.
 *
 * A callback that fails answers in the SPEC's JSON error shape, never with a redirect: 400
 * `OAUTH_STATE_MISMATCH` (no, forged, expired, replayed or other-provider check), 400
 * `OAUTH_PROVIDER_ERROR` (the user denied access, or the exchange or id_token failed), 409
 * `OAUTH_ACCOUNT_NOT_LINKED`, 502 `OAUTH_PROVIDER_UNAVAILABLE`; 404 `UNKNOWN_PROVIDER` on both.
 */
export function createOAuthController(path: string): Type<unknown> {
  @Controller(path)
  @UseFilters(ArrafAuthExceptionFilter)
  @Public()
  class OAuthController {
    constructor(
      readonly oauth: OAuthService,
      readonly auth: AuthService,
    ) {}

    /** Redirects to the provider's authorization page. */
    @Get('sign-in/:provider')
    @Header('Cache-Control', 'no-store')
    @Redirect()
    async signIn(
      @Param('provider') provider: string,
      @Query('redirectTo') redirectTo: unknown,
      @Res({ passthrough: true }) response: unknown,
    ) {
      const { url, cookie } = await this.oauth.startSignIn(provider, redirectTo);
      appendSetCookie(response, cookie);
      return { url, statusCode: 302 };
    }

    /** The provider sends the browser back here; {@link OAuthAuthGuard} has verified it and found the user. */
    @Get('callback/:provider')
    @Header('Cache-Control', 'no-store')
    @UseGuards(OAuthAuthGuard)
    @Redirect()
    async callback(@Req() request: OAuthCallbackRequest, @Res({ passthrough: true }) response: unknown) {
      const info = request.authInfo as OAuthAuthInfo;
      await this.auth.completeSignIn(request.user as User, 'oauth', request, response);
      return { url: info.redirectTo, statusCode: 302 };
    }
  }
  return OAuthController;
}
