import {
  body,
  EDGE_ERRORS,
  errors,
  json,
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
export function sessionPaths({ prefix, signedIn, origin, operation }: PathContext): Paths {
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
      get: operation('listSessions', "The signed-in user's active sessions", {
        security: signedIn,
        responses: {
          200: ok('Active sessions, newest first, the current one marked.', ref('ArrafAuthSessionList')),
          ...errors('UNAUTHENTICATED', 'SERVICE_UNAVAILABLE'),
        },
      }),
    },
    [`${prefix}/sessions/{id}`]: {
      delete: operation('revokeSession', 'Revoke one of your sessions', {
        description: "Another device's session needs a recent sign-in (`session.freshAge`).",
        security: signedIn,
        parameters: [{ name: 'id', in: 'path', required: true, schema: str({ format: 'uuid' }) }],
        responses: {
          200: ok('Revoked (the cookie is cleared when it was the current session).', ref('ArrafAuthSuccess')),
          ...errors('INVALID_INPUT', 'UNAUTHENTICATED', 'SESSION_NOT_FRESH', 'INVALID_ORIGIN', 'SESSION_NOT_FOUND'),
        },
      }),
    },
    [`${prefix}/sessions/revoke-others`]: {
      post: operation('revokeOtherSessions', 'Sign out every other device', {
        description: 'Needs a recent sign-in (`session.freshAge`).',
        security: signedIn,
        responses: {
          200: ok('Other sessions revoked.', ref('ArrafAuthRevoked')),
          ...errors('UNAUTHENTICATED', 'SESSION_NOT_FRESH', 'INVALID_ORIGIN'),
        },
      }),
    },
  };
}

/** The password routes: change it signed in, or reset it with a code or link. */
export function passwordPaths(context: PathContext): Paths {
  return { ...changePasswordPath(context), ...passwordResetPaths(context) };
}

function changePasswordPath({ prefix, signedIn, operation }: PathContext): Paths {
  return {
    [`${prefix}/change-password`]: {
      post: operation('changePassword', 'Change the password', {
        description: "Revokes the user's other sessions.",
        security: signedIn,
        requestBody: body(ref('ArrafAuthChangePasswordBody')),
        responses: {
          200: ok('Changed.', ref('ArrafAuthRevoked')),
          ...errors('INVALID_INPUT', ...NEW_PASSWORD_ERRORS, 'INVALID_CREDENTIALS', 'UNAUTHENTICATED', ...EDGE_ERRORS),
        },
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
export function emailPaths({ prefix, signedIn, operation }: PathContext): Paths {
  return {
    [`${prefix}/verify-email/send`]: {
      post: operation('sendEmailVerification', "Send the signed-in user's email a verification code or link", {
        security: signedIn,
        requestBody: { required: false, ...json(ref('ArrafAuthSendVerificationBody')) },
        responses: {
          200: ok('Sent.', ref('ArrafAuthSuccess')),
          ...errors('INVALID_INPUT', 'EMAIL_REQUIRED', 'UNAUTHENTICATED', ...EDGE_ERRORS, 'DELIVERY_FAILED'),
        },
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
