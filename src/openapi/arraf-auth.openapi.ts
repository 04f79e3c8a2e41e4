/** Options of {@link arrafAuthOpenApi}; pass what the application configured. */
export interface ArrafAuthOpenApiOptions {
  /** The routes' prefix (`routes.path`). @default 'auth' */
  path?: string;
  /**
   * The OAuth providers (their ids, or the `providers` option's entries) listed as the values of
   * `{provider}` in `sign-in/{provider}` and `callback/{provider}`. @default [] (any id)
   */
  providers?: readonly (string | { readonly id: string })[];
  /** The session cookie's full name, `__Host-` prefix included when it applies. @default '__Host-auth_session' */
  cookieName?: string;
  /** Whether `Authorization: Bearer <token>` is accepted (`session.bearer`). @default false */
  bearer?: boolean;
}

/** An OpenAPI 3 fragment: `paths`, plus `components` to merge into the application's document. */
export interface ArrafAuthOpenApi {
  paths: Record<string, Record<string, unknown>>;
  components: {
    schemas: Record<string, Record<string, unknown>>;
    securitySchemes: Record<string, Record<string, unknown>>;
  };
  tags: { name: string; description: string }[];
}

import { oauthPaths } from './openapi.oauth-paths.js';
import { otpPaths } from './openapi.otp-paths.js';
import {
  emailPaths,
  type PathContext,
  type Paths,
  passwordPaths,
  sessionPaths,
  signUpAndSignInPaths,
} from './openapi.paths.js';
import { componentSchemas, type Schema, str } from './openapi.schemas.js';
import { twoFactorComponents, twoFactorPaths } from './openapi.two-factor-paths.js';
import { passkeyComponents, passkeyPaths } from './openapi.passkey-paths.js';
import { securityEventComponents, securityEventPaths } from '../security-events/security-events.openapi.js';
import { accountDataComponents, accountDataPaths } from '../account-data/account-data.openapi.js';
import { accountMethodComponents, accountMethodPaths } from '../accounts/account-methods.openapi.js';

/**
 * The routes of `ArrafAuthModule` as OpenAPI 3 `paths` and `components`, to merge into an
 * application's document (e.g. the one `@nestjs/swagger` builds); the library itself does not
 * depend on any OpenAPI package.
 *
 * @example
 * const auth = arrafAuthOpenApi({ path: 'auth', providers: options.providers, cookieName: options.session.cookieName });
 * document.paths = { ...document.paths, ...auth.paths };
 */
export function arrafAuthOpenApi(options: ArrafAuthOpenApiOptions = {}): ArrafAuthOpenApi {
  const prefix = `/${(options.path ?? 'auth').replace(/^\/+|\/+$/g, '')}`;
  const bearer = options.bearer ?? false;
  const providerIds = (options.providers ?? []).map((p) => (typeof p === 'string' ? p : p.id));
  const tags = ['auth'];
  const signedIn = [{ arrafAuthSession: [] }, ...(bearer ? [{ arrafAuthBearer: [] }] : [])];
  const origin = 'A browser request must come from `appUrl` or a trusted origin (403 `INVALID_ORIGIN`).';

  const operation = (operationId: string, summary: string, rest: Schema): Schema => ({
    operationId: `arrafAuth_${operationId}`,
    summary,
    tags,
    ...rest,
  });
  const providerParam = {
    name: 'provider',
    in: 'path',
    required: true,
    description: 'The provider id, e.g. `google`, `github`, `oidc`.',
    schema: str(providerIds.length > 0 ? { enum: providerIds } : { pattern: '^[A-Za-z0-9_-]+$' }),
  };

  const context = { prefix, signedIn, origin, providerParam, operation };
  const paths = {
    ...otpPaths(context),
    ...signUpAndSignInPaths(context),
    ...sessionPaths(context),
    ...passwordPaths(context),
    ...emailPaths(context),
    ...oauthPaths(context),
    ...featurePaths(context),
  };

  return {
    paths,
    components: {
      schemas: { ...componentSchemas(bearer), ...featureComponents() },
      securitySchemes: {
        arrafAuthSession: {
          type: 'apiKey',
          in: 'cookie',
          name: options.cookieName ?? '__Host-auth_session',
          description: 'The session cookie set by any sign-in.',
        },
        ...(bearer
          ? {
              arrafAuthBearer: {
                type: 'http',
                scheme: 'bearer',
                description:
                  'The `session.token` of a sign-in response. On sliding renewal a response carries the renewed token in the `Set-Auth-Token` header: use it from then on.',
              },
            }
          : {}),
      },
    },
    tags: [{ name: 'auth', description: 'Arraf Auth: sign-in, sessions and passwords' }],
  };
}

/** The routes beyond the core: second factors, passkeys, security events, sign-in methods. */
function featurePaths(context: PathContext): Paths {
  return {
    ...twoFactorPaths(context),
    ...passkeyPaths(context),
    ...securityEventPaths(context),
    ...accountMethodPaths(context),
    ...accountDataPaths(context),
  };
}

/** The components of the routes beyond the core: second factors, passkeys, security events, sign-in methods. */
function featureComponents(): Record<string, Schema> {
  return {
    ...twoFactorComponents(),
    ...passkeyComponents(),
    ...securityEventComponents(),
    ...accountMethodComponents(),
    ...accountDataComponents(),
  };
}
