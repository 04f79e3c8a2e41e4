import {
  body,
  EDGE_ERRORS,
  errors,
  NEW_PASSWORD_ERRORS,
  ok,
  oneOf,
  ref,
  type Schema,
  SECRET_CHECK_ERRORS,
  setCookie,
  str,
} from './openapi.schemas.js';
import { signInAnswers } from './openapi.responses.js';
import { signedInOperation } from './openapi.signed-in.js';
import { PHONE_SEND_ERRORS } from './openapi.otp-paths.js';

/** What every group of paths needs from the options. */
export interface PathContext {
  prefix: string;
  signedIn: Schema[];
  /** The sentence that documents the origin check. */
  origin: string;
  providerParam: Schema;
  operation(operationId: string, summary: string, rest: Schema): Schema;
}

/** OpenAPI `paths` entries. */
export type Paths = Record<string, Record<string, unknown>>;

/** Creating an account and signing in with email + password or by phone. */
export function signUpAndSignInPaths({ prefix, origin, operation }: PathContext): Paths {
  return {
    [`${prefix}/sign-up`]: {
      post: operation('signUp', 'Create an account and sign in', {
        description: `An email or a phone number; a password is required with an email. ${origin}`,
        requestBody: body(ref('ArrafAuthSignUpBody')),
        responses: signInAnswers(201, 'Account created and signed in.', ref('ArrafAuthSignInResult'), [
          'INVALID_EMAIL',
          'INVALID_PHONE',
          ...NEW_PASSWORD_ERRORS,
          'USER_ALREADY_EXISTS',
        ]),
      }),
    },
    [`${prefix}/sign-in`]: {
      post: operation('signIn', 'Sign in with email + password, or start a phone sign-in', {
        description: 'With `method: phone`, a code is sent and the sign-in finishes at `otp/verify`.',
        requestBody: body(oneOf('ArrafAuthEmailSignInBody', 'ArrafAuthPhoneSignInBody')),
        responses: {
          200: ok(
            'Signed in (email), or the code was sent (phone).',
            oneOf('ArrafAuthSignInResult', 'ArrafAuthNextStep'),
            setCookie,
          ),
          ...errors(...PHONE_SEND_ERRORS, 'INVALID_CREDENTIALS', 'HOOK_REJECTED'),
        },
      }),
    },
  };
}

/** The session routes: sign-out, current session, listing and revoking sessions. */
export function sessionPaths(context: PathContext): Paths {
  const { prefix, signedIn, origin, operation } = context;
  return {
    [`${prefix}/sign-out`]: {
      post: operation('signOut', 'Sign out', {
        description: `Revokes the current session and clears the cookie. ${origin}`,
        responses: {
          200: ok('Signed out.', ref('ArrafAuthSuccess'), setCookie),
          ...errors('INVALID_ORIGIN'),
        },
      }),
    },
    [`${prefix}/session`]: {
      get: operation('getSession', 'The current user and session', {
        description: 'Never 401: signed out is `{ user: null, session: null }`.',
        security: [{}, ...signedIn],
        responses: {
          200: ok('The session, or nulls.', ref('ArrafAuthCurrentSession')),
          ...errors('SERVICE_UNAVAILABLE'),
        },
      }),
    },
    [`${prefix}/sessions`]: {
      get: signedInOperation(context, {
        id: 'listSessions',
        summary: "The signed-in user's active sessions",
        result: ok('Active sessions, newest first, the current one marked.', ref('ArrafAuthSessionList')),
        codes: ['SERVICE_UNAVAILABLE'],
      }),
    },
    [`${prefix}/sessions/{id}`]: {
      delete: signedInOperation(context, {
        id: 'revokeSession',
        summary: 'Revoke one of your sessions',
        description: "Another device's session needs a recent sign-in (`session.freshAge`).",
        fresh: true,
        origin: true,
        parameters: [{ name: 'id', in: 'path', required: true, schema: str({ format: 'uuid' }) }],
        result: ok('Revoked (the cookie is cleared when it was the current session).', ref('ArrafAuthSuccess')),
        codes: ['INVALID_INPUT', 'SESSION_NOT_FOUND'],
      }),
    },
    [`${prefix}/sessions/revoke-others`]: {
      post: signedInOperation(context, {
        id: 'revokeOtherSessions',
        summary: 'Sign out every other device',
        description: 'Needs a recent sign-in (`session.freshAge`).',
        fresh: true,
        origin: true,
        result: ok('Other sessions revoked.', ref('ArrafAuthRevoked')),
      }),
    },
  };
}

/** The password routes: change it signed in, or reset it with a code or link. */
export function passwordPaths(context: PathContext): Paths {
  return { ...changePasswordPath(context), ...passwordResetPaths(context) };
}

function changePasswordPath(context: PathContext): Paths {
  return {
    [`${context.prefix}/change-password`]: {
      post: signedInOperation(context, {
        id: 'changePassword',
        summary: 'Change the password',
        description: "Revokes the user's other sessions.",
        origin: true,
        limited: true,
        body: 'ArrafAuthChangePasswordBody',
        result: ok('Changed.', ref('ArrafAuthRevoked')),
        // UNAUTHENTICATED listed to keep its place after INVALID_CREDENTIALS (both 401).
        codes: ['INVALID_INPUT', ...NEW_PASSWORD_ERRORS, 'INVALID_CREDENTIALS', 'UNAUTHENTICATED'],
      }),
    },
  };
}

function passwordResetPaths({ prefix, operation }: PathContext): Paths {
  return {
    [`${prefix}/forgot-password`]: {
      post: operation('forgotPassword', 'Send a password reset code or link', {
        description: 'The same answer whether or not the account exists.',
        requestBody: body(oneOf('ArrafAuthForgotPasswordEmailBody', 'ArrafAuthForgotPasswordPhoneBody')),
        responses: {
          200: ok('Sent when the account exists.', ref('ArrafAuthSuccess')),
          ...errors('INVALID_INPUT', 'INVALID_EMAIL', 'INVALID_PHONE', ...EDGE_ERRORS, 'SMS_FAILED', 'DELIVERY_FAILED'),
        },
      }),
    },
    [`${prefix}/reset-password`]: {
      post: operation('resetPassword', 'Set a new password with a reset code or link', {
        description: 'Single use; signs the user out everywhere.',
        requestBody: body(
          oneOf(
            'ArrafAuthResetPasswordEmailCodeBody',
            'ArrafAuthResetPasswordEmailLinkBody',
            'ArrafAuthResetPasswordPhoneBody',
          ),
        ),
        responses: {
          200: ok('Password reset.', ref('ArrafAuthEmailProven')),
          ...errors('INVALID_INPUT', ...SECRET_CHECK_ERRORS, ...NEW_PASSWORD_ERRORS, ...EDGE_ERRORS),
        },
      }),
    },
  };
}

/** Verifying the user's email address. */
export function emailPaths(context: PathContext): Paths {
  const { prefix, operation } = context;
  return {
    [`${prefix}/verify-email/send`]: {
      post: signedInOperation(context, {
        id: 'sendEmailVerification',
        summary: "Send the signed-in user's email a verification code or link",
        origin: true,
        limited: true,
        body: 'ArrafAuthSendVerificationBody',
        optionalBody: true,
        result: ok('Sent.', ref('ArrafAuthSuccess')),
        codes: ['INVALID_INPUT', 'EMAIL_REQUIRED', 'DELIVERY_FAILED'],
      }),
    },
    [`${prefix}/verify-email`]: {
      post: operation('verifyEmail', 'Mark an email address verified', {
        requestBody: body(oneOf('ArrafAuthVerifyEmailCodeBody', 'ArrafAuthVerifyEmailLinkBody')),
        responses: {
          200: ok('Verified.', ref('ArrafAuthEmailProven')),
          ...errors('INVALID_INPUT', ...SECRET_CHECK_ERRORS, ...EDGE_ERRORS),
        },
      }),
    },
  };
}
