import type { OAuthProviderConfig, OAuthProviderOptions } from './oauth-provider.interface.js';

/** Options of {@link oidc}. */
export interface OidcProviderOptions extends OAuthProviderOptions {
  /** Provider id in the routes and the `accounts` table. @default 'oidc' */
  id?: string;
  /** Issuer identifier; the configuration is discovered at `<issuer>/.well-known/openid-configuration`. */
  issuer: string;
}

/** `openid email profile`: the subject, the email with `email_verified`, the name and picture. */
export const OIDC_DEFAULT_SCOPES: readonly string[] = ['openid', 'email', 'profile'];

/** The scopes with `openid` first: without it there is no id_token, nonce or issuer check. */
export function withOpenIdScope(scopes: unknown): readonly string[] {
  if (!Array.isArray(scopes)) return scopes as readonly string[]; // left for option validation to report
  return scopes.includes('openid') ? scopes : ['openid', ...scopes];
}

/**
 * A generic OpenID Connect provider (Keycloak, Auth0, Entra ID, Okta, ...): discovery, authorization
 * code flow with PKCE S256, `state` and `nonce`, and a fully validated id_token.
 *
 * @example oidc({ issuer: 'https://idp.example.com', clientId, clientSecret, redirectUri: 'https://app.example.com/auth/callback/oidc' })
 */
export function oidc(options: OidcProviderOptions): OAuthProviderConfig {
  return {
    id: options.id ?? 'oidc',
    type: 'oidc',
    issuer: options.issuer,
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    redirectUri: options.redirectUri,
    scopes: withOpenIdScope(options.scopes ?? OIDC_DEFAULT_SCOPES),
    storeTokens: options.storeTokens ?? false,
    allowInsecureRequests: options.allowInsecureRequests ?? false,
  };
}
