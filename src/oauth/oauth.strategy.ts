import { type CanActivate, type ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import passport from 'passport';
import CustomStrategy from 'passport-custom';
import type { User } from '../entities/user.entity.js';
import { appendSetCookie, type HttpRequestLike } from '../session/cookie.util.js';
import { type OAuthCallbackQuery, OAuthService } from './oauth.service.js';

/** Name the strategy registers with Passport: `AuthGuard('arraf-oauth')` also reaches it. */
export const OAUTH_STRATEGY_NAME = 'arraf-oauth';

/** What {@link OAuthStrategy} leaves in `request.authInfo` beside `request.user`. */
export interface OAuthAuthInfo {
  providerId: string;
  isNewUser: boolean;
  /** Where to send the browser: a same-site path or a URL on a trusted origin. */
  redirectTo: string;
}

/** The parts of the callback request the strategy reads. */
export interface OAuthCallbackRequest extends HttpRequestLike {
  params?: Record<string, unknown>;
  query?: OAuthCallbackQuery;
  user?: unknown;
  authInfo?: unknown;
}

/**
 * Passport strategy of the OAuth callback (`GET callback/:provider`): verifies `state` against the
 * check cookie, exchanges the code with the PKCE verifier, validates the id_token and resolves
 * the user. Errors are `ArrafAuthException`s with a 4xx/502 status.
 */
@Injectable()
export class OAuthStrategy extends PassportStrategy(CustomStrategy, OAUTH_STRATEGY_NAME) {
  constructor(private readonly oauth: OAuthService) {
    super();
  }

  async validate(request: OAuthCallbackRequest): Promise<[User, OAuthAuthInfo]> {
    const result = await this.oauth.handleCallback(
      request.params?.provider,
      request.query ?? {},
      request.headers.cookie,
    );
    return [result.user, { providerId: result.providerId, isNewUser: result.isNewUser, redirectTo: result.redirectTo }];
  }
}

/**
 * Guard of the OAuth callback route: runs {@link OAuthStrategy} through Passport and leaves the user
 * in `request.user` and {@link OAuthAuthInfo} in `request.authInfo`. It uses its own injected
 * strategy instance rather than Passport's process-wide registry, so several applications (or
 * test modules) in one process never answer with each other's configuration. The check cookie is
 * cleared whatever the outcome: a sign-in attempt is single use.
 *
 * @example @Get('callback/:provider') @UseGuards(OAuthAuthGuard) callback(@Req() req) { ... }
 */
@Injectable()
export class OAuthAuthGuard implements CanActivate {
  constructor(
    protected readonly strategy: OAuthStrategy,
    protected readonly oauth: OAuthService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = this.getRequest(context);
    const response = context.switchToHttp().getResponse<unknown>();
    appendSetCookie(response, this.oauth.clearCheckCookie());
    const { error, user, info } = await new Promise<{ error?: unknown; user?: unknown; info?: unknown }>((resolve) => {
      // A per-request object: Passport attaches success/fail/error to the strategy it is given.
      const perRequest = Object.create(this.strategy) as passport.Strategy;
      passport.authenticate(perRequest, { session: false }, (err: unknown, u: unknown, i: unknown) =>
        resolve({ error: err, user: u, info: i }),
      )(request, response, (err: unknown) => resolve({ error: err ?? new UnauthorizedException() }));
    });
    request.user = this.handleRequest(error, user);
    request.authInfo = info;
    return true;
  }

  /** The request of the execution context; override for other transports. */
  protected getRequest(context: ExecutionContext): OAuthCallbackRequest {
    return context.switchToHttp().getRequest<OAuthCallbackRequest>();
  }

  /** Rethrows the strategy's error (already in the library's error shape) or returns the user. */
  protected handleRequest(error: unknown, user: unknown): User {
    if (error) throw error;
    if (!user) throw new UnauthorizedException();
    return user as User;
  }
}
