import { TWO_FACTOR_BODIES, type TwoFactorBodyName } from '../schemas/two-factor-bodies.js';
import { bodyComponents } from './openapi.bodies.js';
import type { PathContext, Paths } from './openapi.paths.js';
import { body, bool, errors, nullableStr, object, ok, ref, type Schema, str } from './openapi.schemas.js';
import { signInAnswers } from './openapi.responses.js';

const BODY_COMPONENTS: Record<string, TwoFactorBodyName> = {
  ArrafAuthPasskeyRegisterBody: 'passkeyRegisterVerify',
  ArrafAuthPasskeySignInBody: 'passkeyAuthenticateVerify',
  ArrafAuthPasskeyRenameBody: 'passkeyRename',
};

/** The components the passkey paths refer to. */
export function passkeyComponents(): Record<string, Schema> {
  const bodies = bodyComponents(BODY_COMPONENTS, TWO_FACTOR_BODIES);
  const passkey = object({
    id: str({ format: 'uuid' }),
    name: str(),
    deviceType: str({ enum: ['singleDevice', 'multiDevice'] }),
    backedUp: bool,
    transports: { type: 'array', items: str() },
    createdAt: str({ format: 'date-time' }),
    lastUsedAt: nullableStr({ format: 'date-time' }),
  });
  return {
    ...bodies,
    ArrafAuthPasskey: passkey,
    ArrafAuthPasskeyResult: object({ passkey: ref('ArrafAuthPasskey') }),
    ArrafAuthPasskeyList: object({ passkeys: { type: 'array', items: ref('ArrafAuthPasskey') } }),
    ArrafAuthWebAuthnOptions: {
      type: 'object',
      description:
        'WebAuthn options JSON for `startRegistration()` / `startAuthentication()` of @simplewebauthn/browser.',
      additionalProperties: true,
    },
  };
}

const NEEDS_APP_URL = 'Answers 404 `NOT_FOUND` when `appUrl` is not configured.';

/** The passkey routes. */
export function passkeyPaths(context: PathContext): Paths {
  return { ...registrationPaths(context), ...signInPaths(context), ...managementPaths(context) };
}

/** Registering a passkey (signed in, fresh). */
function registrationPaths({ prefix, signedIn, origin, operation }: PathContext): Paths {
  return {
    [`${prefix}/passkey/register/options`]: {
      post: operation('passkeyRegisterOptions', 'Options to create a passkey', {
        description: `Signed in, fresh session. ${NEEDS_APP_URL} ${origin}`,
        security: signedIn,
        responses: {
          200: ok('Creation options.', ref('ArrafAuthWebAuthnOptions')),
          ...errors('UNAUTHENTICATED', 'SESSION_NOT_FRESH', 'PASSKEY_INVALID', 'NOT_FOUND', 'INVALID_ORIGIN'),
        },
      }),
    },
    [`${prefix}/passkey/register/verify`]: {
      post: operation('passkeyRegisterVerify', 'Store a new passkey', {
        description: `Signed in, fresh session; the challenge works once. ${origin}`,
        security: signedIn,
        requestBody: body(ref('ArrafAuthPasskeyRegisterBody')),
        responses: {
          200: ok('Stored.', ref('ArrafAuthPasskeyResult')),
          ...errors(
            'INVALID_INPUT',
            'UNAUTHENTICATED',
            'SESSION_NOT_FRESH',
            'PASSKEY_INVALID',
            'NOT_FOUND',
            'INVALID_ORIGIN',
          ),
        },
      }),
    },
  };
}

/** Signing in with a discoverable passkey. */
function signInPaths({ prefix, origin, operation }: PathContext): Paths {
  return {
    [`${prefix}/passkey/authenticate/options`]: {
      post: operation('passkeyAuthenticateOptions', 'Options to sign in with a passkey', {
        description: `No username: the authenticator offers the user's discoverable passkeys (also for autofill). ${NEEDS_APP_URL}`,
        responses: {
          200: ok('Request options.', ref('ArrafAuthWebAuthnOptions')),
          ...errors('NOT_FOUND', 'INVALID_ORIGIN', 'RATE_LIMITED'),
        },
      }),
    },
    [`${prefix}/passkey/authenticate/verify`]: {
      post: operation('passkeyAuthenticateVerify', 'Sign in with a passkey', {
        description:
          'Counts as two factors: no pending step; user verification is required. A signature counter that did not advance is refused. ' +
          'With the pending cookie of a first factor (`{ twoFactorRequired: true }`), a passkey of the same account completes that sign-in ' +
          `and clears the pending cookie; a passkey of another account is refused. ${origin}`,
        requestBody: body(ref('ArrafAuthPasskeySignInBody')),
        responses: signInAnswers(200, 'Signed in.', ref('ArrafAuthSignInResult'), [
          'PASSKEY_INVALID',
          'TWO_FACTOR_PENDING_EXPIRED',
          'NOT_FOUND',
        ]),
      }),
    },
  };
}

/** Listing, renaming and deleting one's passkeys. */
function managementPaths({ prefix, signedIn, origin, operation }: PathContext): Paths {
  const idParam = { name: 'id', in: 'path', required: true, schema: str({ format: 'uuid' }) };
  return {
    [`${prefix}/passkeys`]: {
      get: operation('passkeyList', "The user's passkeys", {
        security: signedIn,
        responses: { 200: ok('No key material.', ref('ArrafAuthPasskeyList')), ...errors('UNAUTHENTICATED') },
      }),
    },
    [`${prefix}/passkeys/{id}`]: {
      patch: operation('passkeyRename', 'Rename a passkey', {
        description: origin,
        security: signedIn,
        parameters: [idParam],
        requestBody: body(ref('ArrafAuthPasskeyRenameBody')),
        responses: {
          200: ok('Renamed.', ref('ArrafAuthPasskeyResult')),
          ...errors('INVALID_INPUT', 'UNAUTHENTICATED', 'PASSKEY_NOT_FOUND', 'INVALID_ORIGIN'),
        },
      }),
      delete: operation('passkeyDelete', 'Delete a passkey', {
        description: `Fresh session. ${origin}`,
        security: signedIn,
        parameters: [idParam],
        responses: {
          200: ok('Deleted.', ref('ArrafAuthSuccess')),
          ...errors('UNAUTHENTICATED', 'SESSION_NOT_FRESH', 'PASSKEY_NOT_FOUND', 'INVALID_ORIGIN'),
        },
      }),
    },
  };
}
