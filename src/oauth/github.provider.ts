import type {
  OAuthProfile,
  OAuthProfileContext,
  OAuthProviderConfig,
  OAuthProviderOptions,
} from './oauth-provider.interface.js';
import { normalizeProviderEmail, providerImage, providerName, providerSubject } from './oauth-profile.util.js';

/** Options of {@link github}. */
export interface GitHubProviderOptions extends OAuthProviderOptions {
  /**
   * Where `/login/oauth/authorize` and `/login/oauth/access_token` live: GitHub Enterprise Server's
   * host, or a local server in tests. @default 'https://github.com'
   */
  baseUrl?: string;
  /** GitHub's REST API (`https://HOST/api/v3` on Enterprise Server). @default 'https://api.github.com' */
  apiBaseUrl?: string;
}

const GITHUB_API_HEADERS = {
  accept: 'application/vnd.github+json',
  'x-github-api-version': '2022-11-28',
  'user-agent': 'arraf-auth',
};

interface GitHubUser {
  id?: unknown;
  login?: unknown;
  name?: unknown;
  email?: unknown;
  avatar_url?: unknown;
}

interface GitHubEmail {
  email?: unknown;
  primary?: unknown;
  verified?: unknown;
}

function trimSlash(url: string | undefined, fallback: string): string {
  return (typeof url === 'string' ? url : fallback).replace(/\/+$/, '');
}

/**
 * The GitHub user and their primary email from `GET /user/emails` (scope `user:email`), verified only
 * when GitHub says `verified: true`. Without access to that list, the public profile email counts as
 * unverified.
 */
async function fetchGitHubProfile(context: OAuthProfileContext, apiBaseUrl: string): Promise<OAuthProfile> {
  const userResponse = await context.get(`${apiBaseUrl}/user`, GITHUB_API_HEADERS);
  if (!userResponse.ok) throw new Error(`GitHub GET /user answered ${userResponse.status}`);
  const user = (await userResponse.json()) as GitHubUser | null;
  if (typeof user !== 'object' || user === null) throw new Error('GitHub GET /user answered no object');

  let email: string | null = null;
  let verified = false;
  const emailsResponse = await context.get(`${apiBaseUrl}/user/emails`, GITHUB_API_HEADERS);
  if (emailsResponse.ok) {
    const emails = (await emailsResponse.json()) as unknown;
    const primary = Array.isArray(emails)
      ? (emails as (GitHubEmail | null)[]).find((entry) => entry?.primary === true && typeof entry.email === 'string')
      : undefined;
    if (primary) {
      email = normalizeProviderEmail(primary.email);
      verified = primary.verified === true;
    }
  } else {
    await emailsResponse.body?.cancel();
    email = normalizeProviderEmail(user.email);
  }
  return {
    id: providerSubject(user.id),
    email,
    emailVerified: email !== null && verified,
    name: providerName(user.name) ?? providerName(user.login),
    image: providerImage(user.avatar_url),
  };
}

/**
 * Sign in with GitHub (OAuth 2.0 web application flow with PKCE S256 and `state`), scopes
 * `read:user user:email`. The identity is GitHub's numeric user id; the email is the primary one
 * from the emails API, and it counts as verified only when GitHub says so.
 *
 * @example github({ clientId, clientSecret, redirectUri: 'https://app.example.com/auth/callback/github' })
 */
export function github(options: GitHubProviderOptions): OAuthProviderConfig {
  const baseUrl = trimSlash(options.baseUrl, 'https://github.com');
  const apiBaseUrl = trimSlash(options.apiBaseUrl, 'https://api.github.com');
  return {
    id: 'github',
    type: 'oauth2',
    issuer: baseUrl,
    authorizationEndpoint: `${baseUrl}/login/oauth/authorize`,
    tokenEndpoint: `${baseUrl}/login/oauth/access_token`,
    fetchProfile: (context) => fetchGitHubProfile(context, apiBaseUrl),
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    redirectUri: options.redirectUri,
    scopes: options.scopes ?? ['read:user', 'user:email'],
    storeTokens: options.storeTokens ?? false,
    allowInsecureRequests: options.allowInsecureRequests ?? false,
  };
}
