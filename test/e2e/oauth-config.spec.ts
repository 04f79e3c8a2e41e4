import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ArrafAuthModule } from '../../src/arraf-auth.module.js';
import { ARRAF_AUTH_ENTITIES } from '../../src/entities/arraf-auth.entities.js';
import { ArrafAuthConfigError, resolveArrafAuthOptions } from '../../src/options/arraf-auth-options.resolver.js';
import type { ArrafAuthOptions } from '../../src/options/arraf-auth-options.interface.js';
import { github } from '../../src/oauth/github.provider.js';
import { google } from '../../src/oauth/google.provider.js';
import { oidc } from '../../src/oauth/oidc.provider.js';
import type { OAuthProviderConfig } from '../../src/oauth/oauth-provider.interface.js';
import { createTestApp, type Platform, TEST_SECRET } from '../apps/test-app.js';
import { testDatabases } from '../helpers/databases.js';

const CLIENT = { clientId: 'client-id', clientSecret: 'client-secret' };
const PLATFORMS: Platform[] = ['express', 'fastify'];
const sqlite = testDatabases().find((db) => db.name === 'sqlite')!;

function resolveProviders(providers: unknown): readonly OAuthProviderConfig[] {
  return resolveArrafAuthOptions({ secret: TEST_SECRET, providers } as ArrafAuthOptions).providers;
}

function configError(providers: unknown): string {
  try {
    resolveProviders(providers);
  } catch (error) {
    expect(error).toBeInstanceOf(ArrafAuthConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a configuration error');
}

describe('OAuth provider helpers and options', () => {
  it("google(): Google's issuer and default scopes", () => {
    const [provider] = resolveProviders([
      google({ ...CLIENT, redirectUri: 'https://app.example/auth/callback/google' }),
    ]);
    expect(provider).toMatchObject({
      id: 'google',
      type: 'oidc',
      issuer: 'https://accounts.google.com',
      scopes: ['openid', 'email', 'profile'],
      storeTokens: false,
      allowInsecureRequests: false,
    });
  });

  it("github(): GitHub's endpoints and default scopes, or an Enterprise Server host", () => {
    const [cloud, enterprise] = resolveProviders([
      github({ ...CLIENT, redirectUri: 'https://app.example/auth/callback/github' }),
      {
        ...github({
          ...CLIENT,
          redirectUri: 'https://app.example/auth/callback/ghes',
          baseUrl: 'https://ghe.corp.example/',
          apiBaseUrl: 'https://ghe.corp.example/api/v3',
        }),
        id: 'ghes',
      },
    ]);
    expect(cloud).toMatchObject({
      id: 'github',
      type: 'oauth2',
      authorizationEndpoint: 'https://github.com/login/oauth/authorize',
      tokenEndpoint: 'https://github.com/login/oauth/access_token',
      scopes: ['read:user', 'user:email'],
    });
    expect(enterprise).toMatchObject({
      authorizationEndpoint: 'https://ghe.corp.example/login/oauth/authorize',
      tokenEndpoint: 'https://ghe.corp.example/login/oauth/access_token',
    });
  });

  it('oidc(): id "oidc" by default, openid always requested, custom scopes kept', () => {
    const [a, b] = resolveProviders([
      oidc({ ...CLIENT, issuer: 'https://idp.example', redirectUri: 'https://app.example/auth/callback/oidc' }),
      oidc({
        ...CLIENT,
        id: 'corp',
        issuer: 'https://sso.corp.example/realms/main',
        redirectUri: 'https://app.example/auth/callback/corp',
        scopes: ['email', 'groups'],
      }),
    ]);
    expect([a.id, a.scopes]).toEqual(['oidc', ['openid', 'email', 'profile']]);
    expect([b.id, b.scopes]).toEqual(['corp', ['openid', 'email', 'groups']]);
  });

  it('no providers by default', () => {
    expect(resolveProviders(undefined)).toEqual([]);
  });

  it.each([
    ['not an array', { nope: true }, 'providers'],
    ['a provider that is not an object', ['google'], 'providers[0]'],
    [
      'a missing clientId',
      [google({ ...CLIENT, clientId: undefined as unknown as string, redirectUri: 'https://a.example/cb' })],
      'providers[0].clientId',
    ],
    [
      'an empty clientSecret',
      [google({ ...CLIENT, clientSecret: '', redirectUri: 'https://a.example/cb' })],
      'providers[0].clientSecret',
    ],
    [
      'a relative redirectUri',
      [google({ ...CLIENT, redirectUri: '/auth/callback/google' })],
      'providers[0].redirectUri',
    ],
    [
      'a redirectUri with a query',
      [google({ ...CLIENT, redirectUri: 'https://a.example/cb?x=1' })],
      'providers[0].redirectUri',
    ],
    [
      'an issuer that is not a URL',
      [oidc({ ...CLIENT, issuer: 'idp.example', redirectUri: 'https://a.example/cb' })],
      'providers[0].issuer',
    ],
    [
      'a plain-http issuer without allowInsecureRequests',
      [oidc({ ...CLIENT, issuer: 'http://idp.example', redirectUri: 'https://a.example/cb' })],
      'providers[0].issuer',
    ],
    [
      'an http GitHub without allowInsecureRequests',
      [github({ ...CLIENT, baseUrl: 'http://127.0.0.1:9', redirectUri: 'https://a.example/cb' })],
      'providers[0].issuer',
    ],
    [
      'a scope with a space',
      [
        oidc({
          ...CLIENT,
          issuer: 'https://idp.example',
          redirectUri: 'https://a.example/cb',
          scopes: ['openid email'],
        }),
      ],
      'providers[0].scopes[1]',
    ],
    [
      'an id with a slash',
      [oidc({ ...CLIENT, id: 'a/b', issuer: 'https://idp.example', redirectUri: 'https://a.example/cb' })],
      'providers[0].id',
    ],
    [
      'the reserved id "credential"',
      [oidc({ ...CLIENT, id: 'credential', issuer: 'https://idp.example', redirectUri: 'https://a.example/cb' })],
      'providers[0].id',
    ],
    [
      'storeTokens that is not a boolean',
      [{ ...google({ ...CLIENT, redirectUri: 'https://a.example/cb' }), storeTokens: 'yes' }],
      'providers[0].storeTokens',
    ],
    [
      'an unknown key',
      [{ ...google({ ...CLIENT, redirectUri: 'https://a.example/cb' }), clientSecert: 'typo' }],
      'providers[0].clientSecert',
    ],
    [
      'a duplicate id',
      [
        google({ ...CLIENT, redirectUri: 'https://a.example/cb1' }),
        google({ ...CLIENT, redirectUri: 'https://a.example/cb2' }),
      ],
      'providers[1].id',
    ],
  ])('refuses %s, naming the option', (_label, providers, path) => {
    expect(configError(providers)).toContain(`invalid option ${path}:`);
  });

  it.each(PLATFORMS)(
    'stops the application at boot with one clear message for a bad provider (%s)',
    async (platform: Platform) => {
      const database = await sqlite.create();
      try {
        await expect(
          createTestApp({
            database: database.options,
            platform,
            auth: { providers: [google({ ...CLIENT, redirectUri: 'not a url' })] },
          }),
        ).rejects.toThrow(/^ArrafAuthModule: invalid option providers\[0\]\.redirectUri: /);
      } finally {
        await database.drop();
      }
    },
  );

  it('stops a bare testing module at boot with the same message', async () => {
    await expect(
      Test.createTestingModule({
        imports: [
          TypeOrmModule.forRoot({
            type: 'better-sqlite3',
            database: ':memory:',
            entities: ARRAF_AUTH_ENTITIES,
            synchronize: true,
          }),
          ArrafAuthModule.forRoot({
            secret: TEST_SECRET,
            providers: [google({ ...CLIENT, redirectUri: 'not a url' })],
          }),
        ],
      }).compile(),
    ).rejects.toThrow(/^ArrafAuthModule: invalid option providers\[0\]\.redirectUri: /);
  });
});
