import { bodyComponents } from '../openapi/openapi.bodies.js';
import type { PathContext, Paths } from '../openapi/openapi.paths.js';
import { NEW_PASSWORD_ERRORS, nullableStr, object, ok, ref, type Schema, str } from '../openapi/openapi.schemas.js';
import { type SignedInRoute, signedInOperation } from '../openapi/openapi.signed-in.js';
import { createAccountBodies } from '../schemas/account-bodies.js';

/** Request bodies of the sign-in method routes, generated from the schemas the routes validate with. */
const BODY_COMPONENTS = {
  ArrafAuthAccountPhoneSendBody: 'accountPhoneSend',
  ArrafAuthAccountPhoneConfirmBody: 'accountPhoneConfirm',
  ArrafAuthAccountEmailSendBody: 'accountEmailSend',
  ArrafAuthAccountEmailConfirmBody: 'accountEmailConfirm',
  ArrafAuthAccountPasswordSetBody: 'accountPasswordSet',
  ArrafAuthAccountPasswordRemoveBody: 'accountPasswordRemove',
  ArrafAuthAccountMethodsAcknowledgeBody: 'accountMethodsAcknowledge',
} as const;

const dateTime = str({ format: 'date-time' });

/** The components the sign-in method paths refer to. */
export function accountMethodComponents(): Record<string, Schema> {
  const bodies = createAccountBodies(1024);
  const state = (example: string) => ({
    allOf: [object({ value: str({ example }), verified: { type: 'boolean' } })],
    nullable: true,
  });
  return {
    ...bodyComponents(BODY_COMPONENTS, bodies),
    ArrafAuthUnrecognisedMethod: object({
      type: str({ enum: ['phone', 'oauth', 'passkey'] }),
      id: nullableStr({ description: 'The identity or passkey id to remove it with; `null` for the phone.' }),
      label: str({ description: 'The masked number, the provider id or the passkey name.' }),
      addedAt: dateTime,
    }),
    ArrafAuthAccountMethods: object({
      phone: state('+966551234567'),
      email: state('user@example.sa'),
      password: { type: 'boolean', description: 'Whether the account has a password.' },
      providers: {
        type: 'array',
        items: object({ id: str({ format: 'uuid' }), providerId: str({ example: 'google' }), linkedAt: dateTime }),
      },
      passkeys: { type: 'integer', minimum: 0 },
      unrecognised: {
        type: 'array',
        description:
          'Methods added since the email was last proven, flagged by an email-proven password reset; empty otherwise.',
        items: ref('ArrafAuthUnrecognisedMethod'),
      },
    }),
  };
}

type ChangeCodes = NonNullable<SignedInRoute['codes']>;

/** One change route: fresh session, origin-checked, counted per account. */
function changeOperation(
  context: PathContext,
  [id, summary, description]: [string, string, string],
  request: string | null,
  codes: ChangeCodes,
  result: Schema = ref('ArrafAuthSuccess'),
): Schema {
  return signedInOperation(context, {
    id,
    summary,
    description: `${description} Signed in with a fresh session (\`session.freshAge\`).`,
    fresh: true,
    origin: 'noted',
    limited: true,
    ...(request ? { body: request } : {}),
    result: ok('Done.', result),
    codes: ['INVALID_INPUT', ...codes],
  });
}

/** `GET account/methods` and the phone routes. */
function phonePaths(context: PathContext): Paths {
  const { prefix } = context;
  return {
    [`${prefix}/account/methods`]: {
      get: signedInOperation(context, {
        id: 'accountMethods',
        summary: 'List the sign-in methods of the account',
        result: ok('The methods.', ref('ArrafAuthAccountMethods')),
      }),
    },
    [`${prefix}/account/methods/acknowledge`]: {
      post: changeOperation(
        context,
        [
          'accountMethodsAcknowledge',
          'Keep the unrecognised methods',
          'Clears `unrecognised`: the owner recognises and keeps the flagged methods. Needs the password (counted ' +
            'like a password change), so whoever added a flagged method cannot clear the flag with it.',
        ],
        'ArrafAuthAccountMethodsAcknowledgeBody',
        ['INVALID_CREDENTIALS'],
      ),
    },
    [`${prefix}/account/phone/send`]: {
      post: changeOperation(
        context,
        [
          'accountPhoneSend',
          'Send a code to a new phone number',
          'The same answer whether or not the number belongs to another account (then nothing is sent).',
        ],
        'ArrafAuthAccountPhoneSendBody',
        ['INVALID_PHONE', 'PHONE_NOT_ALLOWED', 'PHONE_NOT_MOBILE', 'OTP_PREFIX_PAUSED', 'SMS_FAILED'],
        object({ success: { type: 'boolean', enum: [true] }, maskedPhone: str({ example: '+9665****5678' }) }),
      ),
    },
    [`${prefix}/account/phone`]: {
      post: changeOperation(
        context,
        [
          'accountPhoneConfirm',
          'Attach the new phone number with its code',
          'The number becomes the account phone, verified; the previous number gets an SMS notice.',
        ],
        'ArrafAuthAccountPhoneConfirmBody',
        ['INVALID_PHONE', 'OTP_INVALID', 'OTP_EXPIRED', 'OTP_TOO_MANY_ATTEMPTS', 'USER_ALREADY_EXISTS'],
      ),
      delete: changeOperation(
        context,
        ['accountPhoneRemove', 'Remove the phone number', 'Never the last way in.'],
        null,
        ['SIGN_IN_METHOD_NOT_FOUND', 'LAST_SIGN_IN_METHOD'],
      ),
    },
  };
}

/** The email and password routes. */
function emailAndPasswordPaths(context: PathContext): Paths {
  const { prefix } = context;
  return {
    [`${prefix}/account/email/send`]: {
      post: changeOperation(
        context,
        [
          'accountEmailSend',
          'Send a code to a new email address',
          'Through `callbacks.onVerifyEmail`; the same answer whether or not the address belongs to another account.',
        ],
        'ArrafAuthAccountEmailSendBody',
        ['INVALID_EMAIL', 'DELIVERY_FAILED'],
      ),
    },
    [`${prefix}/account/email`]: {
      post: changeOperation(
        context,
        [
          'accountEmailConfirm',
          'Attach the new email address with its code',
          'The address becomes the account email, verified; the previous one is told (`callbacks.onEmailChanged`).',
        ],
        'ArrafAuthAccountEmailConfirmBody',
        ['INVALID_EMAIL', 'INVALID_TOKEN', 'USER_ALREADY_EXISTS'],
      ),
    },
    [`${prefix}/account/password`]: {
      post: changeOperation(
        context,
        [
          'accountPasswordSet',
          'Set a password on an account without one',
          'Change an existing password with `POST change-password`.',
        ],
        'ArrafAuthAccountPasswordSetBody',
        ['PASSWORD_ALREADY_SET', ...NEW_PASSWORD_ERRORS],
      ),
      delete: changeOperation(
        context,
        ['accountPasswordRemove', 'Remove the password', 'Needs the password; never the last way in.'],
        'ArrafAuthAccountPasswordRemoveBody',
        ['INVALID_CREDENTIALS', 'LAST_SIGN_IN_METHOD'],
      ),
    },
  };
}

/** Unlinking (`DELETE account/providers/{id}`) and linking (`GET link/{provider}`). */
function providerPaths(context: PathContext): Paths {
  const { prefix, providerParam } = context;
  return {
    [`${prefix}/account/providers/{id}`]: {
      delete: {
        ...changeOperation(
          context,
          ['accountProviderUnlink', 'Unlink a provider identity', 'Never the last way in.'],
          null,
          ['SIGN_IN_METHOD_NOT_FOUND', 'LAST_SIGN_IN_METHOD'],
        ),
        parameters: [{ name: 'id', in: 'path', required: true, schema: str({ format: 'uuid' }) }],
      },
    },
    [`${prefix}/link/{provider}`]: {
      get: signedInOperation(context, {
        id: 'oauthLink',
        summary: 'Link a provider to the signed-in account',
        description:
          'Open it in the browser (a navigation): the same state/PKCE/nonce flow as a sign-in; the callback links the ' +
          'identity and redirects to `redirectTo` without a new session (409 `OAUTH_ACCOUNT_IN_USE` when it belongs to ' +
          'another user). Signed in with a fresh session.',
        fresh: true,
        limited: true,
        parameters: [
          providerParam,
          { name: 'redirectTo', in: 'query', required: false, schema: str({ example: '/' }) },
        ],
        status: 302,
        result: {
          description: "Redirect to the provider's authorization page.",
          headers: { Location: { schema: str() } },
        },
        codes: ['UNKNOWN_PROVIDER', 'OAUTH_PROVIDER_UNAVAILABLE'],
      }),
    },
  };
}

/** The sign-in method routes and `GET link/{provider}`. */
export function accountMethodPaths(context: PathContext): Paths {
  return { ...phonePaths(context), ...emailAndPasswordPaths(context), ...providerPaths(context) };
}
