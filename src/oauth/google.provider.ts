import type { OAuthProviderConfig, OAuthProviderOptions } from './oauth-provider.interface.js';
import { oidc } from './oidc.provider.js';

/** Options of {@link google}. */
export interface GoogleProviderOptions extends OAuthProviderOptions {
  /**
   * Google's issuer identifier. Change it only to point tests at a local OpenID provider.
   * @default 'https://accounts.google.com'
   */
  issuer?: string;
}

/** Google's OpenID Connect issuer; its discovery document is `<issuer>/.well-known/openid-configuration`. */
export const GOOGLE_ISSUER = 'https://accounts.google.com';

/**
 * Sign in with Google (OpenID Connect, discovered from `https://accounts.google.com`), scopes
 * `openid email profile`. Register `redirectUri` in the Google Cloud console.
 *
 * @example google({ clientId, clientSecret, redirectUri: 'https://app.example.com/auth/callback/google' })
 */
export function google(options: GoogleProviderOptions): OAuthProviderConfig {
  return oidc({ ...options, id: 'google', issuer: options.issuer ?? GOOGLE_ISSUER });
}
