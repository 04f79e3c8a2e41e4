import { Inject, Injectable, Logger } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import * as client from 'openid-client';
import { DataSource, type EntityManager } from 'typeorm';
import { ARRAF_AUTH_OPTIONS } from '../arraf-auth.constants.js';
import { AuthService, isUniqueViolation } from '../auth/auth.service.js';
import { deriveKey, randomId, randomToken, safeEqual } from '../crypto/crypto.util.js';
import { Account } from '../entities/account.entity.js';
import type { User } from '../entities/user.entity.js';
import { ArrafAuthException } from '../errors/arraf-auth.exception.js';
import type { ResolvedArrafAuthOptions } from '../options/arraf-auth-options.interface.js';
import { readCookie } from '../session/session-cookie.js';
import {
  checkCookieName,
  OAUTH_CHECK_MAX_AGE,
  type OAuthCheckPayload,
  serializeCheckCookie,
} from './oauth-check-cookie.js';
import type { OAuthProfile, OAuthProviderConfig } from './oauth-provider.interface.js';
import { OAuthStateStore } from './oauth-state.store.js';
import {
  normalizeProviderEmail,
  profileFromClaims,
  providerImage,
  providerName,
  providerSubject,
} from './oauth-profile.util.js';
import { safeRedirectTarget } from './redirect.util.js';

/** What a completed provider callback yields before the session is created. */
export interface OAuthSignInResult {
  user: User;
  /** Whether this sign-in created the user. */
  isNewUser: boolean;
  providerId: string;
  /** Where to send the browser: a same-site path or a URL on a trusted origin. */
  redirectTo: string;
}

/** The query of `GET callback/:provider`, as any HTTP platform parsed it. */
export type OAuthCallbackQuery = Record<string, unknown>;

type TokenResponse = Awaited<ReturnType<typeof client.authorizationCodeGrant>>;

const CHECK_AUDIENCE = 'arraf-auth:oauth-check';
const HTTP_TIMEOUT_SECONDS = 10;
const MAX_PARAM_LENGTH = 4096;
const MAX_SCOPE_LENGTH = 1024;

/** A single string query parameter; arrays (`?code=a&code=b`), objects and oversized values count as absent. */
function queryString(query: OAuthCallbackQuery, name: string): string | undefined {
  const value = query?.[name];
  return typeof value === 'string' && value !== '' && value.length <= MAX_PARAM_LENGTH ? value : undefined;
}

function isCheckPayload(value: unknown): value is OAuthCheckPayload {
  const p = value as Partial<OAuthCheckPayload> | null;
  return (
    typeof p === 'object' &&
    p !== null &&
    typeof p.pid === 'string' &&
    typeof p.st === 'string' &&
    typeof p.cv === 'string' &&
    typeof p.nn === 'string' &&
    typeof p.rt === 'string'
  );
}

/** Whether a provider call failed because the provider could not be reached (502), not because it refused (400). */
function isUnreachable(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof TypeError && e.message === 'fetch failed') return true;
    if (e.name === 'TimeoutError' || e.name === 'AbortError') return true;
    const code = (e as { code?: unknown }).code;
    if (code === 'OAUTH_TIMEOUT' || code === 'OAUTH_ABORT' || code === 'ECONNREFUSED' || code === 'ENOTFOUND')
      return true;
    if (e.cause instanceof Response && e.cause.status >= 500) return true;
  }
  return false;
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  const detail = (error as { error?: unknown }).error; // OAuth `error` of a ResponseBodyError
  return [error.name, code, detail, error.message].filter((part) => typeof part === 'string' && part !== '').join(': ');
}

/**
 * OAuth 2.0 / OpenID Connect sign-in with `openid-client`: builds the authorization request
 * (PKCE S256, `state`, `nonce`), checks the callback against the signed check cookie, exchanges the
 * code, validates the id_token, loads the profile and finds or creates the user.
 *
 * Identities are keyed by (provider id, subject). A new identity is linked to an existing user by
 * email only when the provider asserts `email_verified === true` AND the user's email is verified;
 * otherwise 409 `OAUTH_ACCOUNT_NOT_LINKED`, never a silent link. A new user is stored without an
 * email the provider did not verify, so that address stays free for its owner.
 */
@Injectable()
export class OAuthService {
  private readonly logger = new Logger('ArrafAuth:OAuth');
  private readonly configurations = new Map<string, Promise<client.Configuration>>();
  private readonly checkKeys: readonly Buffer[];

  constructor(
    @Inject(ARRAF_AUTH_OPTIONS) private readonly options: ResolvedArrafAuthOptions,
    private readonly dataSource: DataSource,
    private readonly jwt: JwtService,
    private readonly auth: AuthService,
    private readonly states: OAuthStateStore,
  ) {
    // Keys of their own (HKDF, one per configured secret so rotation keeps verifying): a check
    // cookie can never pass as a session JWT, nor the reverse.
    this.checkKeys = options.secrets.map((secret) => deriveKey(secret, 'oauth-check-cookie'));
  }

  /** The configured provider with this id, or 404 `UNKNOWN_PROVIDER`. */
  getProvider(id: unknown): OAuthProviderConfig {
    const provider = typeof id === 'string' ? this.options.providers.find((p) => p.id === id) : undefined;
    if (!provider) throw new ArrafAuthException('UNKNOWN_PROVIDER');
    return provider;
  }

  /**
   * Starts a sign-in: the provider's authorization URL (with `state`, an S256 `code_challenge` and,
   * for OpenID Connect, a `nonce`) and the `Set-Cookie` value of the check cookie that remembers
   * them, the provider and the vetted `redirectTo` for ten minutes.
   */
  async startSignIn(providerId: unknown, redirectTo: unknown): Promise<{ url: string; cookie: string }> {
    const provider = this.getProvider(providerId);
    const config = await this.configuration(provider);
    const check: OAuthCheckPayload = {
      pid: provider.id,
      st: randomToken(),
      cv: randomToken(),
      nn: randomToken(),
      rt: safeRedirectTarget(redirectTo, this.options.trustedOrigins),
    };
    const parameters: Record<string, string> = {
      redirect_uri: provider.redirectUri,
      scope: provider.scopes.join(' '),
      state: check.st,
      code_challenge: await client.calculatePKCECodeChallenge(check.cv),
      code_challenge_method: 'S256',
    };
    if (provider.type === 'oidc') parameters.nonce = check.nn;
    const url = client.buildAuthorizationUrl(config, parameters);
    const token = await this.jwt.signAsync(check, {
      secret: this.checkKeys[0],
      algorithm: 'HS256',
      audience: CHECK_AUDIENCE,
      expiresIn: OAUTH_CHECK_MAX_AGE,
    });
    return { url: url.href, cookie: serializeCheckCookie(this.options.session, token, OAUTH_CHECK_MAX_AGE) };
  }

  /** The `Set-Cookie` value that deletes the check cookie. */
  clearCheckCookie(): string {
    return serializeCheckCookie(this.options.session, '', 0);
  }

  /**
   * Completes a sign-in at `GET callback/:provider`. Refuses (400 `OAUTH_STATE_MISMATCH`) a callback
   * without a valid check cookie made for this provider, with another `state`, or whose `state` was
   * used before; refuses (400 `OAUTH_PROVIDER_ERROR`) a provider `error`, a failed code exchange
   * (PKCE included) and an id_token whose signature, `iss`, `aud`, `exp` or `nonce` is wrong.
   */
  async handleCallback(
    providerId: unknown,
    query: OAuthCallbackQuery,
    cookieHeader: unknown,
  ): Promise<OAuthSignInResult> {
    const provider = this.getProvider(providerId);
    const check = await this.readCheck(typeof cookieHeader === 'string' ? cookieHeader : undefined);
    const state = queryString(query, 'state');
    if (!check || check.pid !== provider.id || state === undefined || !safeEqual(state, check.st)) {
      throw new ArrafAuthException('OAUTH_STATE_MISMATCH');
    }
    await this.states.consume(provider.id, check.st);

    if (query?.error !== undefined) {
      const error = queryString(query, 'error')
        ?.slice(0, 64)
        .replace(/[^\w.-]/g, '?');
      this.logger.warn(`${provider.id}: the provider answered error=${error ?? '(invalid)'}`);
      throw new ArrafAuthException('OAUTH_PROVIDER_ERROR');
    }
    const code = queryString(query, 'code');
    if (code === undefined) throw new ArrafAuthException('OAUTH_PROVIDER_ERROR');

    const config = await this.configuration(provider);
    let tokens: TokenResponse;
    let profile: OAuthProfile;
    try {
      // The redirect URI sent to the token endpoint is this URL without its query: the configured one.
      const currentUrl = new URL(provider.redirectUri);
      currentUrl.searchParams.set('code', code);
      currentUrl.searchParams.set('state', state);
      const iss = queryString(query, 'iss');
      if (iss !== undefined) currentUrl.searchParams.set('iss', iss); // RFC 9207 mix-up defence
      tokens = await client.authorizationCodeGrant(config, currentUrl, {
        pkceCodeVerifier: check.cv,
        expectedState: check.st,
        expectedNonce: provider.type === 'oidc' ? check.nn : undefined,
        idTokenExpected: provider.type === 'oidc',
      });
      profile = await this.loadProfile(provider, config, tokens);
    } catch (error) {
      throw this.providerFailure(provider, 'code exchange or profile', error);
    }

    const { user, isNewUser } = await this.findOrCreateUser(provider, profile, tokens);
    return {
      user,
      isNewUser,
      providerId: provider.id,
      redirectTo: safeRedirectTarget(check.rt, this.options.trustedOrigins),
    };
  }

  /** The provider's `openid-client` configuration: discovered once (OIDC) and cached; a failure is retried next time. */
  protected configuration(provider: OAuthProviderConfig): Promise<client.Configuration> {
    let pending = this.configurations.get(provider.id);
    if (!pending) {
      pending = this.createConfiguration(provider).catch((error: unknown) => {
        this.configurations.delete(provider.id);
        throw this.providerFailure(provider, 'discovery', error, 'OAUTH_PROVIDER_UNAVAILABLE');
      });
      this.configurations.set(provider.id, pending);
    }
    return pending;
  }

  private async createConfiguration(provider: OAuthProviderConfig): Promise<client.Configuration> {
    const execute = provider.allowInsecureRequests ? [client.allowInsecureRequests] : [];
    let metadata: client.ServerMetadata;
    let authentication: client.ClientAuth;
    if (provider.type === 'oidc') {
      const discovered = await client.discovery(new URL(provider.issuer!), provider.clientId, undefined, undefined, {
        execute,
        timeout: HTTP_TIMEOUT_SECONDS,
      });
      metadata = discovered.serverMetadata();
      // RFC 8414: without a list, client_secret_basic is the default method.
      const methods = metadata.token_endpoint_auth_methods_supported;
      authentication =
        !methods || methods.includes('client_secret_basic')
          ? client.ClientSecretBasic(provider.clientSecret)
          : client.ClientSecretPost(provider.clientSecret);
    } else {
      metadata = {
        issuer: provider.issuer ?? new URL(provider.authorizationEndpoint!).origin,
        authorization_endpoint: provider.authorizationEndpoint,
        token_endpoint: provider.tokenEndpoint,
      };
      authentication = client.ClientSecretPost(provider.clientSecret);
    }
    const config = new client.Configuration(metadata, provider.clientId, provider.clientSecret, authentication);
    for (const step of execute) step(config);
    // Check id_token signatures against the issuer's JWKS too; openid-client otherwise relies on TLS
    // alone for tokens from the token endpoint, which a misissued certificate or a proxy defeats.
    if (provider.type === 'oidc') client.enableNonRepudiationChecks(config);
    config.timeout = HTTP_TIMEOUT_SECONDS;
    return config;
  }

  private async loadProfile(
    provider: OAuthProviderConfig,
    config: client.Configuration,
    tokens: TokenResponse,
  ): Promise<OAuthProfile> {
    if (provider.type === 'oidc') {
      const claims = tokens.claims();
      if (!claims) throw new Error('no id_token');
      // Many providers put the email only in UserInfo; its `sub` must be the id_token's.
      if (normalizeProviderEmail(claims.email) === null && config.serverMetadata().userinfo_endpoint) {
        const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
        return profileFromClaims({ ...claims, ...info, sub: claims.sub });
      }
      return profileFromClaims(claims);
    }
    const profile = await provider.fetchProfile!({
      accessToken: tokens.access_token,
      get: (url, headers) =>
        client.fetchProtectedResource(
          config,
          tokens.access_token,
          new URL(url),
          'GET',
          undefined,
          new Headers(headers),
        ),
    });
    // A custom fetchProfile is application code: normalise what it returns the same way.
    const email = normalizeProviderEmail(profile?.email);
    return {
      id: providerSubject(profile?.id),
      email,
      emailVerified: email !== null && profile.emailVerified === true,
      name: providerName(profile.name),
      image: providerImage(profile.image),
    };
  }

  /**
   * The user of this identity: the linked one (even when the provider's email changed since), an
   * existing user with the same email when both sides verified it, or a new user, who gets the
   * provider's email only when the provider verified it (otherwise none).
   */
  protected async findOrCreateUser(
    provider: OAuthProviderConfig,
    profile: OAuthProfile,
    tokens: TokenResponse,
  ): Promise<{ user: User; isNewUser: boolean }> {
    const linked = await this.findLinkedUser(provider, profile, tokens);
    if (linked) return { user: linked, isNewUser: false };

    if (profile.email !== null) {
      const existing = await this.auth.findUserByEmail(profile.email);
      if (existing) {
        if (profile.emailVerified !== true || existing.emailVerified !== true) {
          throw new ArrafAuthException('OAUTH_ACCOUNT_NOT_LINKED');
        }
        try {
          await this.accounts().insert(this.accountRow(provider, existing.id, profile, tokens));
        } catch (error) {
          if (!isUniqueViolation(error)) throw error;
          // The same identity finished a parallel callback first.
          const raced = await this.findLinkedUser(provider, profile, tokens);
          if (raced) return { user: raced, isNewUser: false };
          throw error;
        }
        return { user: existing, isNewUser: false };
      }
    }

    // An address the provider did not verify is only a claim: stored, it would refuse its real owner's
    // sign-up (409) and route their password reset into an account this identity controls.
    const verifiedEmail = profile.emailVerified === true ? profile.email : null;
    try {
      const user = await this.auth.createUser(
        {
          email: verifiedEmail,
          emailVerified: verifiedEmail !== null,
          name: profile.name,
          image: profile.image,
        },
        'oauth',
        undefined,
        async (created: User, manager: EntityManager) => {
          await manager.getRepository(Account).insert(this.accountRow(provider, created.id, profile, tokens));
        },
      );
      return { user, isNewUser: true };
    } catch (error) {
      if (!(error instanceof ArrafAuthException) || error.code !== 'USER_ALREADY_EXISTS') throw error;
      const raced = await this.findLinkedUser(provider, profile, tokens);
      if (raced) return { user: raced, isNewUser: false };
      // The email belongs to someone (a collation-equal address, or a parallel sign-up): never link silently.
      throw new ArrafAuthException('OAUTH_ACCOUNT_NOT_LINKED');
    }
  }

  private async findLinkedUser(
    provider: OAuthProviderConfig,
    profile: OAuthProfile,
    tokens: TokenResponse,
  ): Promise<User | null> {
    const account = await this.accounts().findOneBy({ providerId: provider.id, accountId: profile.id });
    // Exact match: MySQL's default collation would also match a subject differing in case.
    if (!account || account.accountId !== profile.id || account.providerId !== provider.id) return null;
    const user = await this.auth.users().findOneBy({ id: account.userId });
    if (!user) return null;
    const columns = this.tokenColumns(provider, tokens);
    const stale =
      !provider.storeTokens &&
      (account.accessToken !== null || account.refreshToken !== null || account.idToken !== null);
    if (provider.storeTokens || stale) {
      // Keep a refresh token the provider did not send again (many send it only on first consent).
      if (provider.storeTokens && columns.refreshToken === null)
        delete (columns as Partial<typeof columns>).refreshToken;
      await this.accounts().update({ id: account.id }, columns);
    }
    return user;
  }

  private accounts() {
    return this.dataSource.getRepository(Account);
  }

  private tokenColumns(provider: OAuthProviderConfig, tokens: TokenResponse) {
    if (!provider.storeTokens) {
      return { accessToken: null, refreshToken: null, idToken: null, accessTokenExpiresAt: null, scope: null };
    }
    const expiresIn = tokens.expiresIn();
    return {
      accessToken: tokens.access_token,
      refreshToken: tokens.refresh_token ?? null,
      idToken: tokens.id_token ?? null,
      accessTokenExpiresAt: expiresIn === undefined ? null : new Date(Date.now() + expiresIn * 1000),
      scope: typeof tokens.scope === 'string' ? tokens.scope.slice(0, MAX_SCOPE_LENGTH) : null,
    };
  }

  private accountRow(provider: OAuthProviderConfig, userId: string, profile: OAuthProfile, tokens: TokenResponse) {
    return {
      id: randomId(),
      userId,
      providerId: provider.id,
      accountId: profile.id,
      password: null,
      ...this.tokenColumns(provider, tokens),
    };
  }

  /** The verified check cookie, or `null` when absent, forged, expired or malformed. */
  private async readCheck(cookieHeader: string | undefined): Promise<OAuthCheckPayload | null> {
    const token = readCookie(cookieHeader, checkCookieName(this.options.session));
    if (token === undefined || token.length > MAX_PARAM_LENGTH) return null;
    for (const secret of this.checkKeys) {
      try {
        const payload: unknown = await this.jwt.verifyAsync(token, {
          secret,
          algorithms: ['HS256'],
          audience: CHECK_AUDIENCE,
        });
        return isCheckPayload(payload) ? payload : null;
      } catch {
        // Try the next key (rotation); none left means forged or expired.
      }
    }
    return null;
  }

  private providerFailure(
    provider: OAuthProviderConfig,
    stage: string,
    error: unknown,
    fallback: 'OAUTH_PROVIDER_ERROR' | 'OAUTH_PROVIDER_UNAVAILABLE' = 'OAUTH_PROVIDER_ERROR',
  ): ArrafAuthException {
    if (error instanceof ArrafAuthException) return error;
    this.logger.warn(`${provider.id}: ${stage} failed: ${describe(error)}`);
    return new ArrafAuthException(isUnreachable(error) ? 'OAUTH_PROVIDER_UNAVAILABLE' : fallback, { cause: error });
  }
}
