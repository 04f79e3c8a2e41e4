import { TWO_FACTOR_BODIES, type TwoFactorBodyName } from '../schemas/two-factor-bodies.js';
import { bodyComponents } from './openapi.bodies.js';
import type { PathContext, Paths } from './openapi.paths.js';
import { body, bool, errors, nullableStr, object, ok, ref, type Schema, str } from './openapi.schemas.js';
import { signInAnswers } from './openapi.responses.js';
import { signedInOperation } from './openapi.signed-in.js';

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
function registrationPaths(context: PathContext): Paths {
  const { prefix } = context;
  return {
    [`${prefix}/passkey/register/options`]: {
      post: signedInOperation(context, {
        id: 'passkeyRegisterOptions',
        summary: 'Options to create a passkey',
        description: `Signed in, fresh session. ${NEEDS_APP_URL}`,
        fresh: true,
        origin: 'noted',
        result: ok('Creation options.', ref('ArrafAuthWebAuthnOptions')),
        codes: ['PASSKEY_INVALID', 'NOT_FOUND'],
      }),
    },
    [`${prefix}/passkey/register/verify`]: {
      post: signedInOperation(context, {
        id: 'passkeyRegisterVerify',
        summary: 'Store a new passkey',
        description: 'Signed in, fresh session; the challenge works once.',
        fresh: true,
        origin: 'noted',
        body: 'ArrafAuthPasskeyRegisterBody',
        result: ok('Stored.', ref('ArrafAuthPasskeyResult')),
        codes: ['INVALID_INPUT', 'PASSKEY_INVALID', 'NOT_FOUND'],
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
function managementPaths(context: PathContext): Paths {
  const { prefix } = context;
  const parameters = [{ name: 'id', in: 'path', required: true, schema: str({ format: 'uuid' }) }];
  return {
    [`${prefix}/passkeys`]: {
      get: signedInOperation(context, {
        id: 'passkeyList',
        summary: "The user's passkeys",
        result: ok('No key material.', ref('ArrafAuthPasskeyList')),
      }),
    },
    [`${prefix}/passkeys/{id}`]: {
      patch: signedInOperation(context, {
        id: 'passkeyRename',
        summary: 'Rename a passkey',
        origin: 'noted',
        parameters,
        body: 'ArrafAuthPasskeyRenameBody',
        result: ok('Renamed.', ref('ArrafAuthPasskeyResult')),
        codes: ['INVALID_INPUT', 'PASSKEY_NOT_FOUND'],
      }),
      delete: signedInOperation(context, {
        id: 'passkeyDelete',
        summary: 'Delete a passkey',
        description: 'Fresh session.',
        fresh: true,
        origin: 'noted',
        parameters,
        result: ok('Deleted.', ref('ArrafAuthSuccess')),
        codes: ['PASSKEY_NOT_FOUND'],
      }),
    },
  };
}
