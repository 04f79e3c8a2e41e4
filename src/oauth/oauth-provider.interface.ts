/** Who signed in at the provider, in the library's terms. */
export interface OAuthProfile {
  /** The provider's stable subject (`sub`; GitHub's numeric user id). Identities are keyed by it, never by email. */
  id: string;
  /** The email address the provider gave, lower-cased and NFKC-normalised, or `null`. */
  email: string | null;
  /** `true` only when the provider asserts it with a boolean `true` (a string `"true"` is not enough). */
  emailVerified: boolean;
  name: string | null;
  /** An https URL of the user's picture. */
  image: string | null;
}

/** What a plain OAuth 2.0 provider's {@link OAuthProviderConfig.fetchProfile} gets. */
export interface OAuthProfileContext {
  accessToken: string;
  /**
   * GET `url` with the access token as a Bearer credential, through the same HTTP client as the
   * token exchange (timeouts, and the https-only rule unless `allowInsecureRequests`).
   */
  get(url: string, headers?: Record<string, string>): Promise<Response>;
}

/**
 * One sign-in provider, as returned by `google()`, `github()` or `oidc()` and listed in the
 * `providers` option. Its `id` names the routes (`GET /auth/sign-in/<id>`,
 * `GET /auth/callback/<id>`) and the `accounts.providerId` column.
 */
export interface OAuthProviderConfig {
  /** Letters, digits, `-` and `_`; unique among the providers. */
  readonly id: string;
  /**
   * `'oidc'`: OpenID Connect, configured by discovery from `issuer`, with a `nonce` and a validated
   * id_token (signature from the issuer's JWKS, exact `iss`, `aud` = `clientId`, `exp`).
   * `'oauth2'`: plain OAuth 2.0 with fixed endpoints and a `fetchProfile` function.
   */
  readonly type: 'oidc' | 'oauth2';
  readonly clientId: string;
  readonly clientSecret: string;
  /** This provider's callback URL as registered with it, e.g. `https://app.example/auth/callback/google`. */
  readonly redirectUri: string;
  /** Requested scopes; `openid` is always requested from OpenID Connect providers. */
  readonly scopes: readonly string[];
  /**
   * `'oidc'`: the issuer identifier, matched exactly against discovery and every id_token.
   * `'oauth2'` (optional): the server's identifier, matched against an RFC 9207 `iss` callback parameter.
   */
  readonly issuer?: string;
  /** `'oauth2'` only: the authorization endpoint URL. */
  readonly authorizationEndpoint?: string;
  /** `'oauth2'` only: the token endpoint URL. */
  readonly tokenEndpoint?: string;
  /** `'oauth2'` only: loads the signed-in user's profile with the access token. */
  readonly fetchProfile?: (context: OAuthProfileContext) => Promise<OAuthProfile>;
  /**
   * Keep the provider's access, refresh and id tokens in the `accounts` table (to call its API
   * later). Off, no provider token is stored. @default false
   */
  readonly storeTokens?: boolean;
  /**
   * FOR TESTS ONLY: allow plain-http endpoints (a local mock provider). Never in production: the
   * code, tokens and client secret would cross the network unencrypted. @default false
   */
  readonly allowInsecureRequests?: boolean;
}

/** What every provider helper accepts. */
export interface OAuthProviderOptions {
  /** The client id the provider issued to the application. */
  clientId: string;
  /** The client secret the provider issued to the application. */
  clientSecret: string;
  /** This provider's callback URL, registered with the provider: `<appUrl>/auth/callback/<id>`. */
  redirectUri: string;
  /** Scopes to request instead of the provider's defaults. */
  scopes?: string[];
  /** Keep the provider's tokens in the `accounts` table. @default false */
  storeTokens?: boolean;
  /** FOR TESTS ONLY: allow plain-http endpoints, e.g. a mock provider on 127.0.0.1. @default false */
  allowInsecureRequests?: boolean;
}
