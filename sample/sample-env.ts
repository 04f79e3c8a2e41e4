import { Logger } from '@nestjs/common';
import { github, google, type OAuthProviderConfig, oidc } from '@arraf-auth/nestjs';
import { randomBytes } from 'node:crypto';
import { DEFAULT_DATABASE_URL, dataSourceOptions } from './database.js';

/** The sample's settings, read from the environment (and a `.env` file) by `@nestjs/config`. */
export interface SampleEnv {
  NODE_ENV: string;
  PORT: number;
  DATABASE_URL: string;
  AUTH_SECRET: string;
  APP_URL: string;
  OIDC_ISSUER?: string;
  OIDC_CLIENT_ID?: string;
  OIDC_CLIENT_SECRET?: string;
  GOOGLE_CLIENT_ID?: string;
  GOOGLE_CLIENT_SECRET?: string;
  GITHUB_CLIENT_ID?: string;
  GITHUB_CLIENT_SECRET?: string;
  /** `true`: log SMS codes and emails even with NODE_ENV=production (a staging server). */
  ALLOW_CONSOLE_DELIVERY: boolean;
  /** `on`: `session.cache`, invalidated through `REDIS_URL`, else PostgreSQL, else this process only. */
  SESSION_CACHE: boolean;
  REDIS_URL?: string;
}

/** Thrown for a bad environment; `main.ts` prints its message alone and exits with status 1. */
export class SampleConfigError extends Error {
  override name = 'SampleConfigError';
}

const PROVIDER_VARIABLES = [
  ['OIDC_ISSUER', 'OIDC_CLIENT_ID', 'OIDC_CLIENT_SECRET'],
  ['GOOGLE_CLIENT_ID', 'GOOGLE_CLIENT_SECRET'],
  ['GITHUB_CLIENT_ID', 'GITHUB_CLIENT_SECRET'],
] as const;

function text(env: Record<string, unknown>, name: string): string | undefined {
  const value = env[name];
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/** Whether `hostname` is this machine, where browsers treat plain http as a secure context. */
export function isLoopbackHost(hostname: string): boolean {
  return (
    hostname === 'localhost' ||
    hostname.endsWith('.localhost') ||
    /^127(\.\d{1,3}){3}$/.test(hostname) ||
    hostname === '[::1]'
  );
}

/**
 * Whether the session cookie is `Secure`: always, except when the app is served over plain http
 * on another host (a LAN address during development), where browsers would drop a Secure cookie.
 * Browsers accept Secure cookies from http://localhost.
 */
export function cookieSecure(appUrl: string): boolean {
  const url = new URL(appUrl);
  return url.protocol === 'https:' || isLoopbackHost(url.hostname);
}

/**
 * `validate` for `ConfigModule.forRoot`: checks the variables the sample reads and fills in the
 * defaults. Without `AUTH_SECRET` a random development secret is generated (sessions then end when
 * the process restarts); with `NODE_ENV=production` it is required.
 */
export function validateSampleEnv(env: Record<string, unknown>): SampleEnv {
  const problems: string[] = [];
  const nodeEnv = text(env, 'NODE_ENV') ?? 'development';

  const portText = text(env, 'PORT') ?? '3000';
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535)
    problems.push(`PORT must be a number from 1 to 65535 (got ${portText})`);

  const databaseUrl = text(env, 'DATABASE_URL') ?? DEFAULT_DATABASE_URL;
  try {
    dataSourceOptions(databaseUrl);
  } catch (error) {
    problems.push((error as Error).message);
  }

  const appUrl = (text(env, 'APP_URL') ?? `http://localhost:${port}`).replace(/\/+$/, '');
  if (text(env, 'APP_URL') !== undefined && (!/^https?:\/\/[^/]/.test(appUrl) || !URL.canParse(appUrl))) {
    problems.push(`APP_URL must be an http:// or https:// URL (got ${appUrl})`);
  }

  let secret = text(env, 'AUTH_SECRET');
  if (secret === undefined && nodeEnv === 'production') {
    problems.push('AUTH_SECRET is required when NODE_ENV=production (generate one with `npx arraf-auth secret`)');
  }

  const allowConsole = text(env, 'ALLOW_CONSOLE_DELIVERY') ?? 'false';
  if (allowConsole !== 'true' && allowConsole !== 'false')
    problems.push(`ALLOW_CONSOLE_DELIVERY must be true or false (got ${allowConsole})`);

  const sessionCache = text(env, 'SESSION_CACHE') ?? 'off';
  if (sessionCache !== 'on' && sessionCache !== 'off')
    problems.push(`SESSION_CACHE must be on or off (got ${sessionCache})`);

  for (const group of PROVIDER_VARIABLES) {
    const set = group.filter((name) => text(env, name) !== undefined);
    if (set.length > 0 && set.length < group.length)
      problems.push(`set ${group.join(', ')} together (only ${set.join(', ')} is set)`);
  }

  if (problems.length > 0) throw new SampleConfigError(`Sample configuration: ${problems.join('; ')}`);
  if (secret === undefined) {
    secret = randomBytes(32).toString('base64url');
    new Logger('Sample').warn(
      'AUTH_SECRET is not set: using a random development secret, so sessions end when the sample restarts',
    );
  }
  const validated: Record<string, unknown> = {
    ...env,
    NODE_ENV: nodeEnv,
    PORT: port,
    DATABASE_URL: databaseUrl,
    AUTH_SECRET: secret,
    APP_URL: appUrl,
    ALLOW_CONSOLE_DELIVERY: allowConsole === 'true',
    SESSION_CACHE: sessionCache === 'on',
  };
  return validated as unknown as SampleEnv;
}

/**
 * The OAuth providers whose variables are set, each with its callback at
 * `${APP_URL}/auth/callback/<id>` (register that URL with the provider).
 */
export function sampleOAuthProviders(env: SampleEnv): OAuthProviderConfig[] {
  const callback = (id: string) => `${env.APP_URL}/auth/callback/${id}`;
  const providers: OAuthProviderConfig[] = [];
  if (env.OIDC_ISSUER && env.OIDC_CLIENT_ID && env.OIDC_CLIENT_SECRET) {
    const issuer = new URL(env.OIDC_ISSUER);
    providers.push(
      oidc({
        issuer: env.OIDC_ISSUER,
        clientId: env.OIDC_CLIENT_ID,
        clientSecret: env.OIDC_CLIENT_SECRET,
        redirectUri: callback('oidc'),
        // A local development provider (Keycloak in a container, a mock) often speaks plain http; only
        // on this machine and never in production.
        allowInsecureRequests:
          env.NODE_ENV !== 'production' && issuer.protocol === 'http:' && isLoopbackHost(issuer.hostname),
      }),
    );
  }
  if (env.GOOGLE_CLIENT_ID && env.GOOGLE_CLIENT_SECRET) {
    providers.push(
      google({
        clientId: env.GOOGLE_CLIENT_ID,
        clientSecret: env.GOOGLE_CLIENT_SECRET,
        redirectUri: callback('google'),
      }),
    );
  }
  if (env.GITHUB_CLIENT_ID && env.GITHUB_CLIENT_SECRET) {
    providers.push(
      github({
        clientId: env.GITHUB_CLIENT_ID,
        clientSecret: env.GITHUB_CLIENT_SECRET,
        redirectUri: callback('github'),
      }),
    );
  }
  return providers;
}
