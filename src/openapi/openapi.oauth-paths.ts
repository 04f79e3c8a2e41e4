import type { PathContext, Paths } from './openapi.paths.js';
import { errors, setCookie, str } from './openapi.schemas.js';

/** The OAuth routes. */
export function oauthPaths({ prefix, providerParam, operation }: PathContext): Paths {
  return {
    [`${prefix}/sign-in/{provider}`]: {
      get: operation('oauthSignIn', 'Start an OAuth / OpenID Connect sign-in', {
        description: 'Open it in the browser (a navigation, not fetch): state and PKCE live in a short-lived cookie.',
        parameters: [
          providerParam,
          {
            name: 'redirectTo',
            in: 'query',
            required: false,
            description: 'Where to go after signing in: a relative path or a trusted origin.',
            schema: str({ example: '/' }),
          },
        ],
        responses: {
          302: {
            description: "Redirect to the provider's authorization page.",
            headers: { Location: { schema: str() } },
          },
          ...errors('INVALID_INPUT', 'UNKNOWN_PROVIDER', 'RATE_LIMITED', 'OAUTH_PROVIDER_UNAVAILABLE'),
        },
      }),
    },
    [`${prefix}/callback/{provider}`]: {
      get: operation('oauthCallback', 'The provider sends the browser back here', {
        parameters: [
          providerParam,
          { name: 'code', in: 'query', required: false, schema: str() },
          { name: 'state', in: 'query', required: false, schema: str() },
        ],
        responses: {
          302: {
            description: 'Signed in: redirect to `redirectTo` with the session cookie.',
            headers: { Location: { schema: str() }, ...setCookie },
          },
          ...errors(
            'OAUTH_STATE_MISMATCH',
            'OAUTH_PROVIDER_ERROR',
            'UNKNOWN_PROVIDER',
            'OAUTH_ACCOUNT_NOT_LINKED',
            'OAUTH_ACCOUNT_IN_USE',
            'UNAUTHENTICATED',
            'RATE_LIMITED',
            'OAUTH_PROVIDER_UNAVAILABLE',
          ),
        },
      }),
    },
  };
}
