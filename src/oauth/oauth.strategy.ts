import { type ExecutionContext, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import CustomStrategy from 'passport-custom';
import { type FailedSignIn, StrategyAuthGuard } from '../auth/strategy-auth.guard.js';
import { type EdgeRequest, httpOf } from '../controllers/edge-request.js';
import type { User } from '../entities/user.entity.js';
import { appendHeader, type RequestHeaders, SessionCookie } from '../session/session-cookie.js';
import { SessionService } from '../session/session.service.js';
import { type OAuthCallbackQuery, OAuthService } from './oauth.service.js';

/** Name the strategy registers with Passport: `AuthGuard('arraf-oauth')` also reaches it. */
export const OAUTH_STRATEGY_NAME = 'arraf-oauth';

/** What {@link OAuthStrategy} leaves in `request.authInfo` beside `request.user`. */
export interface OAuthAuthInfo {
  providerId: string;
  isNewUser: boolean;
  /** Where to send the browser: a same-site path or a URL on a trusted origin. */
  redirectTo: string;
  /** The identity was linked to the signed-in user (`GET link/:provider`): no new session. */
  linked: boolean;
}

/** The parts of the callback request the strategy reads. */
export interface OAuthCallbackRequest {
  headers: RequestHeaders;
  ip?: string;
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
  constructor(
    private readonly oauth: OAuthService,
    private readonly sessions: SessionService,
    private readonly cookie: SessionCookie,
  ) {
    super();
  }

  async validate(request: OAuthCallbackRequest): Promise<[User, OAuthAuthInfo]> {
    const agent = request.headers['user-agent'];
    const result = await this.oauth.handleCallback(request.params?.provider, request.query ?? {}, {
      cookieHeader: request.headers.cookie,
      signedInUserId: async () =>
        (await this.sessions.getSession(this.cookie.read(request.headers)?.token))?.user.id ?? null,
      ip: request.ip ?? null,
      userAgent: typeof agent === 'string' ? agent.slice(0, 512) : null,
    });
    const { providerId, isNewUser, redirectTo, linked } = result;
    return [result.user, { providerId, isNewUser, redirectTo, linked }];
  }
}

/**
 * Guard of the OAuth callback route: runs {@link OAuthStrategy} and leaves the user in
 * `request.user` and {@link OAuthAuthInfo} in `request.authInfo`. The check cookie is cleared
 * whatever the outcome: a sign-in attempt is single use.
 *
 * @example @Get('callback/:provider') @UseGuards(OAuthAuthGuard) callback(@Req() req) { ... }
 */
@Injectable()
export class OAuthAuthGuard extends StrategyAuthGuard {
  protected readonly strategyType = OAuthStrategy;
  protected readonly failureCode = 'OAUTH_PROVIDER_ERROR';

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const oauth = this.moduleRef.get(OAuthService, { strict: false });
    appendHeader(httpOf(context).response, 'Set-Cookie', oauth.clearCheckCookie());
    return super.canActivate(context);
  }

  /** `oauth:<provider>`; the account is not known when the provider's answer did not prove one. */
  protected override failedSignIn(request: EdgeRequest): Promise<FailedSignIn> {
    const provider = request.params?.provider;
    const id = typeof provider === 'string' && /^[A-Za-z0-9_-]{1,24}$/.test(provider) ? provider : 'unknown';
    return Promise.resolve({ method: `oauth:${id}`, userId: null });
  }
}
