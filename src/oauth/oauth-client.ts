import { Injectable, Logger } from '@nestjs/common';
import * as client from 'openid-client';
import { ArrafAuthException } from '../errors/arraf-auth.exception.js';
import type { OAuthProfile, OAuthProviderConfig } from './oauth-provider.interface.js';
import {
  normalizeProviderEmail,
  profileFromClaims,
  providerImage,
  providerName,
  providerSubject,
} from './oauth-profile.util.js';

/** The token endpoint's answer. */
export type TokenResponse = Awaited<ReturnType<typeof client.authorizationCodeGrant>>;

/** What the authorization request carried, to check the callback against. */
export interface ExpectedCallback {
  state: string;
  codeVerifier: string;
  nonce: string;
}

const HTTP_TIMEOUT_SECONDS = 10;

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
 * The provider side of OAuth 2.0 / OpenID Connect with `openid-client`: discovery (cached), the
 * authorization URL, the code exchange (PKCE, state, nonce and id_token checks) and the profile.
 */
@Injectable()
export class OAuthClient {
  private readonly logger = new Logger('ArrafAuth:OAuth');
  private readonly configurations = new Map<string, Promise<client.Configuration>>();

  /** The provider's authorization URL for these check values (S256 challenge; nonce for OIDC). */
  async authorizationUrl(provider: OAuthProviderConfig, check: ExpectedCallback): Promise<string> {
    const config = await this.configuration(provider);
    const parameters: Record<string, string> = {
      redirect_uri: provider.redirectUri,
      scope: provider.scopes.join(' '),
      state: check.state,
      code_challenge: await client.calculatePKCECodeChallenge(check.codeVerifier),
      code_challenge_method: 'S256',
    };
    if (provider.type === 'oidc') parameters.nonce = check.nonce;
    return client.buildAuthorizationUrl(config, parameters).href;
  }

  /**
   * Exchanges `code` (with the verifier; RFC 9207 `iss` when sent) and loads the profile. Any
   * refusal is 400 `OAUTH_PROVIDER_ERROR`; an unreachable provider 502 `OAUTH_PROVIDER_UNAVAILABLE`.
   */
  async exchange(
    provider: OAuthProviderConfig,
    callback: { code: string; iss: string | undefined },
    check: ExpectedCallback,
  ): Promise<{ tokens: TokenResponse; profile: OAuthProfile }> {
    const config = await this.configuration(provider);
    try {
      // The redirect URI sent to the token endpoint is this URL without its query: the configured one.
      const currentUrl = new URL(provider.redirectUri);
      currentUrl.searchParams.set('code', callback.code);
      currentUrl.searchParams.set('state', check.state);
      if (callback.iss !== undefined) currentUrl.searchParams.set('iss', callback.iss); // RFC 9207 mix-up defence
      const tokens = await client.authorizationCodeGrant(config, currentUrl, {
        pkceCodeVerifier: check.codeVerifier,
        expectedState: check.state,
        expectedNonce: provider.type === 'oidc' ? check.nonce : undefined,
        idTokenExpected: provider.type === 'oidc',
      });
      return { tokens, profile: await this.loadProfile(provider, config, tokens) };
    } catch (error) {
      throw this.providerFailure(provider, 'code exchange or profile', error);
    }
  }

  /** The provider's `openid-client` configuration: discovered once (OIDC) and cached; a failure is retried next time. */
  configuration(provider: OAuthProviderConfig): Promise<client.Configuration> {
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
