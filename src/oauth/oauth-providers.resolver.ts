import type { OAuthProviderConfig } from './oauth-provider.interface.js';

type Fail = (path: string, message: string) => never;

const PROVIDER_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const SCOPE = /^[\x21\x23-\x5b\x5d-\x7e]+$/; // RFC 6749 scope-token characters
const KNOWN_KEYS = [
  'id',
  'type',
  'clientId',
  'clientSecret',
  'redirectUri',
  'scopes',
  'issuer',
  'authorizationEndpoint',
  'tokenEndpoint',
  'fetchProfile',
  'storeTokens',
  'allowInsecureRequests',
];

function httpUrl(fail: Fail, path: string, value: unknown, insecureAllowed: boolean): string {
  if (typeof value !== 'string') fail(path, 'must be an absolute URL string');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    fail(path, `is not an absolute URL (got ${JSON.stringify(value)})`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && insecureAllowed)) {
    fail(path, 'must be an https URL (http only with allowInsecureRequests: true, for tests against a local provider)');
  }
  if (url.username !== '' || url.password !== '') fail(path, 'must not contain credentials');
  if (url.hash !== '') fail(path, 'must not contain a #fragment');
  return value;
}

function redirectUri(fail: Fail, path: string, value: unknown): string {
  // The browser comes back here; http is normal for a development callback on localhost.
  const uri = httpUrl(fail, path, value, true);
  // The token request repeats it without a query, so one here would never match.
  if (new URL(uri).search !== '') fail(path, 'must not contain a ?query');
  return uri;
}

function nonEmptyString(fail: Fail, path: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') fail(path, 'must be a non-empty string');
  return value;
}

function optionalBoolean(fail: Fail, path: string, value: unknown): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') fail(path, 'must be true or false');
  return value;
}

function resolveProvider(fail: Fail, path: string, value: unknown): OAuthProviderConfig {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail(path, 'must be a provider such as google({...}), github({...}) or oidc({...})');
  }
  const raw = value as Record<string, unknown>;
  for (const key of Object.keys(raw)) {
    if (!KNOWN_KEYS.includes(key)) fail(`${path}.${key}`, 'is not a known option');
  }
  const id = raw.id;
  if (typeof id !== 'string' || !PROVIDER_ID.test(id)) {
    fail(`${path}.id`, 'must be 1 to 64 letters, digits, - or _, starting with a letter or digit');
  }
  if (id === 'credential') fail(`${path}.id`, '"credential" is reserved for password accounts');
  if (raw.type !== 'oidc' && raw.type !== 'oauth2') fail(`${path}.type`, "must be 'oidc' or 'oauth2'");
  const insecure = optionalBoolean(fail, `${path}.allowInsecureRequests`, raw.allowInsecureRequests);
  const scopes = raw.scopes;
  if (!Array.isArray(scopes)) fail(`${path}.scopes`, 'must be an array of scope strings');
  scopes.forEach((scope, i) => {
    if (typeof scope !== 'string' || !SCOPE.test(scope)) fail(`${path}.scopes[${i}]`, 'must be a scope without spaces');
  });

  const resolved: OAuthProviderConfig = {
    id,
    type: raw.type,
    clientId: nonEmptyString(fail, `${path}.clientId`, raw.clientId),
    clientSecret: nonEmptyString(fail, `${path}.clientSecret`, raw.clientSecret),
    redirectUri: redirectUri(fail, `${path}.redirectUri`, raw.redirectUri),
    scopes: Object.freeze([...(scopes as string[])]),
    storeTokens: optionalBoolean(fail, `${path}.storeTokens`, raw.storeTokens),
    allowInsecureRequests: insecure,
  };
  if (raw.type === 'oidc') {
    if (!scopes.includes('openid')) fail(`${path}.scopes`, "must include 'openid' for an OpenID Connect provider");
    return { ...resolved, issuer: httpUrl(fail, `${path}.issuer`, raw.issuer, insecure) };
  }
  if (typeof raw.fetchProfile !== 'function') fail(`${path}.fetchProfile`, 'must be a function that loads the profile');
  return {
    ...resolved,
    issuer: raw.issuer === undefined ? undefined : httpUrl(fail, `${path}.issuer`, raw.issuer, insecure),
    authorizationEndpoint: httpUrl(fail, `${path}.authorizationEndpoint`, raw.authorizationEndpoint, insecure),
    tokenEndpoint: httpUrl(fail, `${path}.tokenEndpoint`, raw.tokenEndpoint, insecure),
    fetchProfile: raw.fetchProfile as OAuthProviderConfig['fetchProfile'],
  };
}

/**
 * Validates the `providers` option at boot: each one complete and well-formed (`providers[i].field:
 * message` otherwise), ids unique. Endpoints must be https unless the provider is marked
 * `allowInsecureRequests` (tests only).
 */
export function resolveOAuthProviders(value: unknown, fail: Fail): readonly OAuthProviderConfig[] {
  if (value === undefined) return Object.freeze([]);
  if (!Array.isArray(value)) fail('providers', 'must be an array such as [google({...}), github({...})]');
  const seen = new Set<string>();
  const providers = value.map((item, i) => {
    const provider = resolveProvider(fail, `providers[${i}]`, item);
    if (seen.has(provider.id)) fail(`providers[${i}].id`, `duplicate provider id "${provider.id}"`);
    seen.add(provider.id);
    return Object.freeze(provider);
  });
  return Object.freeze(providers);
}
