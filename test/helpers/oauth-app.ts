import type { INestApplication } from '@nestjs/common';
import type { DataSourceOptions } from 'typeorm';
import type { ArrafAuthOptions } from '../../src/options/arraf-auth-options.interface.js';
import { github } from '../../src/oauth/github.provider.js';
import { google } from '../../src/oauth/google.provider.js';
import { oidc } from '../../src/oauth/oidc.provider.js';
import { createTestApp, type Platform } from '../apps/test-app.js';
import { type FakeGitHub, type MockOidcProvider, startFakeGitHub, startMockOidcProvider } from './oauth-providers.js';

export const OIDC_CLIENT = { clientId: 'oidc-client', clientSecret: 'oidc-secret-value' };
export const GOOGLE_CLIENT = { clientId: 'google-client.apps.example', clientSecret: 'google-secret-value' };
export const GITHUB_CLIENT = { clientId: 'Iv1.github-client', clientSecret: 'github-secret-value' };
/** The app's public URL in redirect URIs; only its path matters, the tests call the app directly. */
export const APP_URL = 'https://app.example.com';
export const TRUSTED_ORIGIN = 'https://admin.example.com';

export interface OAuthTestEnvironment {
  app: INestApplication;
  oidcProvider: MockOidcProvider;
  googleProvider: MockOidcProvider;
  githubProvider: FakeGitHub;
  close(): Promise<void>;
}

/**
 * An application with three providers against local servers: `oidc` (generic, tokens not stored),
 * `google` (tokens stored) and `github`, plus `down`, an OpenID provider nobody answers for.
 */
export async function startOAuthEnvironment(
  database: DataSourceOptions,
  options: { platform?: Platform; auth?: Partial<ArrafAuthOptions> } = {},
): Promise<OAuthTestEnvironment> {
  const oidcProvider = await startMockOidcProvider(OIDC_CLIENT);
  const googleProvider = await startMockOidcProvider(GOOGLE_CLIENT, {
    authMethods: ['client_secret_basic', 'client_secret_post'],
  });
  const githubProvider = await startFakeGitHub(GITHUB_CLIENT);
  const app = await createTestApp({
    database,
    platform: options.platform,
    auth: {
      appUrl: APP_URL,
      trustedOrigins: [TRUSTED_ORIGIN],
      providers: [
        oidc({
          ...OIDC_CLIENT,
          issuer: oidcProvider.issuer,
          redirectUri: `${APP_URL}/auth/callback/oidc`,
          allowInsecureRequests: true,
        }),
        google({
          ...GOOGLE_CLIENT,
          issuer: googleProvider.issuer,
          redirectUri: `${APP_URL}/auth/callback/google`,
          storeTokens: true,
          allowInsecureRequests: true,
        }),
        github({
          ...GITHUB_CLIENT,
          baseUrl: githubProvider.baseUrl,
          apiBaseUrl: githubProvider.baseUrl,
          redirectUri: `${APP_URL}/auth/callback/github`,
          allowInsecureRequests: true,
        }),
        oidc({
          id: 'down',
          clientId: 'c',
          clientSecret: 's',
          issuer: 'http://127.0.0.1:1',
          redirectUri: `${APP_URL}/auth/callback/down`,
          allowInsecureRequests: true,
        }),
      ],
      ...options.auth,
    },
  });
  return {
    app,
    oidcProvider,
    googleProvider,
    githubProvider,
    async close() {
      await app.close();
      await oidcProvider.stop();
      await googleProvider.stop();
      await githubProvider.stop();
    },
  };
}
