import { Inject, Injectable, Logger } from '@nestjs/common';
import { ARRAF_AUTH_OPTIONS } from '../arraf-auth.constants.js';
import { randomToken, safeEqual } from '../crypto/crypto.util.js';
import type { User } from '../entities/user.entity.js';
import { ArrafAuthException } from '../errors/arraf-auth.exception.js';
import type { ResolvedArrafAuthOptions } from '../options/arraf-auth-options.interface.js';
import { MAX_PARAM_LENGTH, OAuthCheck } from './oauth-check.js';
import type { OAuthCheckPayload } from './oauth-check-cookie.js';
import { OAuthAccounts } from './oauth-accounts.js';
import { OAuthClient } from './oauth-client.js';
import { OAuthLink } from './oauth-link.js';
import type { OAuthProviderConfig } from './oauth-provider.interface.js';
import { OAuthStateStore } from './oauth-state.store.js';
import { safeRedirectTarget } from './redirect.util.js';

/** What a completed provider callback yields before the session is created. */
export interface OAuthSignInResult {
  user: User;
  /** Whether this sign-in created the user. */
  isNewUser: boolean;
  providerId: string;
  /** Where to send the browser: a same-site path or a URL on a trusted origin. */
  redirectTo: string;
  /** The callback of `GET link/:provider`: the identity was linked to the signed-in `user`; no new session. */
  linked: boolean;
}

/** The query of `GET callback/:provider`, as any HTTP platform parsed it. */
export type OAuthCallbackQuery = Record<string, unknown>;

/** What the callback knows of the browser beyond the query. */
export interface OAuthCallbackContext {
  /** The `Cookie` header (the check cookie). */
  cookieHeader: unknown;
  /** The user of the session the request carries, if any: a link completes only for its initiator. */
  signedInUserId?: () => Promise<string | null>;
  ip?: string | null;
  userAgent?: string | null;
}

/** A single string query parameter; arrays (`?code=a&code=b`), objects and oversized values count as absent. */
function queryString(query: OAuthCallbackQuery, name: string): string | undefined {
  const value = query?.[name];
  return typeof value === 'string' && value !== '' && value.length <= MAX_PARAM_LENGTH ? value : undefined;
}

/**
 * OAuth 2.0 / OpenID Connect sign-in and linking: starts a flow (PKCE S256, `state`, `nonce`, kept
 * in the signed check cookie with the vetted `redirectTo` and, for a link, the signed-in user),
 * checks the callback against it (single-use state), and hands the exchange to {@link OAuthClient},
 * the identity to {@link OAuthAccounts} (sign-in) or {@link OAuthLink} (link).
 */
@Injectable()
export class OAuthService {
  private readonly logger = new Logger('ArrafAuth:OAuth');

  constructor(
    @Inject(ARRAF_AUTH_OPTIONS) private readonly options: ResolvedArrafAuthOptions,
    private readonly states: OAuthStateStore,
    private readonly checks: OAuthCheck,
    private readonly client: OAuthClient,
    private readonly accounts: OAuthAccounts,
    private readonly links: OAuthLink,
  ) {}

  /** The configured provider with this id, or 404 `UNKNOWN_PROVIDER`. */
  getProvider(id: unknown): OAuthProviderConfig {
    const provider = typeof id === 'string' ? this.options.providers.find((p) => p.id === id) : undefined;
    if (!provider) throw new ArrafAuthException('UNKNOWN_PROVIDER');
    return provider;
  }

  /**
   * Starts a sign-in (or, with `linkUserId`, a link to that signed-in user): the provider's
   * authorization URL (with `state`, an S256 `code_challenge` and, for OpenID Connect, a `nonce`)
   * and the `Set-Cookie` value of the check cookie that remembers them, the provider and the vetted
   * `redirectTo` for ten minutes.
   */
  async startSignIn(
    providerId: unknown,
    redirectTo: unknown,
    linkUserId?: string,
  ): Promise<{ url: string; cookie: string }> {
    const provider = this.getProvider(providerId);
    const check: OAuthCheckPayload = {
      pid: provider.id,
      st: randomToken(),
      cv: randomToken(),
      nn: randomToken(),
      rt: safeRedirectTarget(redirectTo, this.options.trustedOrigins),
      ...(linkUserId === undefined ? {} : { lk: linkUserId }),
    };
    const url = await this.client.authorizationUrl(provider, {
      state: check.st,
      codeVerifier: check.cv,
      nonce: check.nn,
    });
    return { url, cookie: await this.checks.issue(check) };
  }

  /** The `Set-Cookie` value that deletes the check cookie. */
  clearCheckCookie(): string {
    return this.checks.clear();
  }

  /**
   * Completes a sign-in or link at `GET callback/:provider`. Refuses (400 `OAUTH_STATE_MISMATCH`) a
   * callback without a valid check cookie made for this provider, with another `state`, or whose
   * `state` was used before; refuses (400 `OAUTH_PROVIDER_ERROR`) a provider `error`, a failed code
   * exchange (PKCE included) and an id_token whose signature, `iss`, `aud`, `exp` or `nonce` is
   * wrong. A link completes only in the session that started it (401 `UNAUTHENTICATED` otherwise).
   */
  async handleCallback(
    providerId: unknown,
    query: OAuthCallbackQuery,
    context: OAuthCallbackContext,
  ): Promise<OAuthSignInResult> {
    const provider = this.getProvider(providerId);
    const cookieHeader = context.cookieHeader;
    const check = await this.checks.read(typeof cookieHeader === 'string' ? cookieHeader : undefined);
    const state = queryString(query, 'state');
    if (!check || check.pid !== provider.id || state === undefined || !safeEqual(state, check.st)) {
      throw new ArrafAuthException('OAUTH_STATE_MISMATCH');
    }
    await this.states.consume(provider.id, check.st);
    if (check.lk !== undefined && (await context.signedInUserId?.()) !== check.lk)
      throw new ArrafAuthException('UNAUTHENTICATED');

    if (query?.error !== undefined) {
      const error = queryString(query, 'error')
        ?.slice(0, 64)
        .replace(/[^\w.-]/g, '?');
      this.logger.warn(`${provider.id}: the provider answered error=${error ?? '(invalid)'}`);
      throw new ArrafAuthException('OAUTH_PROVIDER_ERROR');
    }
    const code = queryString(query, 'code');
    if (code === undefined) throw new ArrafAuthException('OAUTH_PROVIDER_ERROR');

    const { tokens, profile } = await this.client.exchange(
      provider,
      { code, iss: queryString(query, 'iss') },
      { state: check.st, codeVerifier: check.cv, nonce: check.nn },
    );
    const redirectTo = safeRedirectTarget(check.rt, this.options.trustedOrigins);
    if (check.lk !== undefined) {
      const client = { ip: context.ip, userAgent: context.userAgent };
      const user = await this.links.link(check.lk, provider, profile, tokens, client);
      return { user, isNewUser: false, providerId: provider.id, redirectTo, linked: true };
    }
    const { user, isNewUser } = await this.accounts.findOrCreateUser(provider, profile, tokens);
    return { user, isNewUser, providerId: provider.id, redirectTo, linked: false };
  }
}
