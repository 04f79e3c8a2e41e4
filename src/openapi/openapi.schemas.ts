import { bodyComponents } from './openapi.bodies.js';
import { ARRAF_AUTH_ERRORS } from '../errors/error-codes.js';
import { createBodySchemas } from '../schemas/request-bodies.js';

/** Building blocks of the OpenAPI description: component schemas and response helpers. */

export type Schema = Record<string, unknown>;

export const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
export const str = (extra: Schema = {}): Schema => ({ type: 'string', ...extra });
export const nullableStr = (extra: Schema = {}): Schema => ({ type: 'string', nullable: true, ...extra });
export const bool: Schema = { type: 'boolean' };
export const trueOnly: Schema = { type: 'boolean', enum: [true] };

export function object(properties: Record<string, Schema>, required: string[] = Object.keys(properties)): Schema {
  return { type: 'object', additionalProperties: false, required, properties };
}

/** The request-body schemas, by component name: generated from the schemas the routes validate with. */
const BODY_COMPONENTS = {
  ArrafAuthOtpSendBody: 'otpSend',
  ArrafAuthOtpVerifyBody: 'otpVerify',
  ArrafAuthSignUpBody: 'signUp',
  ArrafAuthEmailSignInBody: 'emailSignIn',
  ArrafAuthPhoneSignInBody: 'phoneSignIn',
  ArrafAuthChangePasswordBody: 'changePassword',
  ArrafAuthForgotPasswordEmailBody: 'forgotEmail',
  ArrafAuthForgotPasswordPhoneBody: 'forgotPhone',
  ArrafAuthResetPasswordEmailCodeBody: 'resetEmailCode',
  ArrafAuthResetPasswordEmailLinkBody: 'resetEmailLink',
  ArrafAuthResetPasswordPhoneBody: 'resetPhone',
  ArrafAuthSendVerificationBody: 'sendVerification',
  ArrafAuthVerifyEmailCodeBody: 'verifyEmailCode',
  ArrafAuthVerifyEmailLinkBody: 'verifyEmailLink',
} as const;

/**
 * The request bodies as OpenAPI 3.0 schemas, from the zod schemas `BodyGuard` validates with (the
 * input side: what a client sends). Rules zod cannot express in JSON Schema (the password byte
 * cap, code-point lengths) are described in the field's text. The default password limits apply.
 */
export function requestBodySchemas(): Record<string, Schema> {
  return bodyComponents(BODY_COMPONENTS, createBodySchemas({ maxPasswordBytes: 1024 }));
}

/** Request and response bodies; the names are prefixed so they never collide with the application's. */
export function componentSchemas(bearer: boolean): Record<string, Schema> {
  return { ...userAndSessionSchemas(bearer), ...outcomeSchemas(), ...requestBodySchemas() };
}

/** The user and session shapes, and the answers that carry them. */
function userAndSessionSchemas(bearer: boolean): Record<string, Schema> {
  const session: Schema = object(
    {
      id: str({ format: 'uuid' }),
      userId: str({ format: 'uuid' }),
      expiresAt: str({ format: 'date-time' }),
      ...(bearer
        ? { token: str({ description: 'For `Authorization: Bearer`; returned because `session.bearer` is on.' }) }
        : {}),
    },
    ['id', 'userId', 'expiresAt'],
  );
  return {
    ArrafAuthUser: object({
      id: str({ format: 'uuid' }),
      email: nullableStr({ format: 'email' }),
      phone: nullableStr({ example: '+966551234567', description: 'E.164' }),
      name: nullableStr(),
      image: nullableStr({ format: 'uri' }),
      emailVerified: bool,
      phoneVerified: bool,
    }),
    ArrafAuthSession: session,
    ArrafAuthSignInResult: object({ user: ref('ArrafAuthUser'), session: ref('ArrafAuthSession') }),
    ArrafAuthOtpVerifyResult: object({
      user: ref('ArrafAuthUser'),
      session: ref('ArrafAuthSession'),
      isNewUser: { type: 'boolean', description: 'true when this sign-in created the account.' },
    }),
    ArrafAuthCurrentSession: object({
      user: { allOf: [ref('ArrafAuthUser')], nullable: true },
      session: { allOf: [ref('ArrafAuthSession')], nullable: true },
    }),
    ArrafAuthSessionSummary: object({
      id: str({ format: 'uuid' }),
      ipAddress: nullableStr(),
      userAgent: nullableStr(),
      createdAt: str({ format: 'date-time' }),
      expiresAt: str({ format: 'date-time' }),
      current: { type: 'boolean', description: 'The session this request was made with.' },
    }),
    ArrafAuthSessionList: object({ sessions: { type: 'array', items: ref('ArrafAuthSessionSummary') } }),
  };
}

/** The answers of routes that do not sign in: success flags, counts, next steps and the error shape. */
function outcomeSchemas(): Record<string, Schema> {
  return {
    ArrafAuthSuccess: object({ success: trueOnly }),
    ArrafAuthEmailProven: object(
      {
        success: trueOnly,
        removedMethods: {
          type: 'array',
          description: 'Present when proving the email removed sign-in methods its owner had not proven.',
          items: object({ type: str({ enum: ['oauth'] }), providerId: str() }),
        },
      },
      ['success'],
    ),
    ArrafAuthRevoked: object({
      success: trueOnly,
      revoked: { type: 'integer', minimum: 0, description: 'How many other sessions were revoked.' },
    }),
    ArrafAuthOtpSent: object({
      success: trueOnly,
      maskedPhone: str({ example: '+9665****5678' }),
      channel: str({ enum: ['sms', 'whatsapp'], description: 'The channel that delivered the code.' }),
    }),
    ArrafAuthNextStep: object({
      nextStep: str({ enum: ['otp'] }),
      channel: str({ enum: ['sms', 'whatsapp'], description: 'The channel that delivered the code.' }),
    }),
    ArrafAuthError: object({
      error: object({
        code: str({ enum: Object.keys(ARRAF_AUTH_ERRORS) }),
        en: str({ description: 'Message in English.' }),
        ar: str({ description: 'Message in Arabic.' }),
      }),
    }),
  };
}

export const json = (schema: Schema): Schema => ({ content: { 'application/json': { schema } } });

export const setCookie = {
  'Set-Cookie': { description: 'The session cookie (httpOnly).', schema: str() },
};
export const retryAfter = {
  'Retry-After': { description: 'Seconds to wait before trying again.', schema: { type: 'integer' } },
};

export function ok(description: string, schema: Schema, headers?: Record<string, unknown>): Schema {
  return { description, ...json(schema), ...(headers ? { headers } : {}) };
}

/** An error response listing the codes this route answers with at this status. */
export function error(...codes: (keyof typeof ARRAF_AUTH_ERRORS)[]): Schema {
  return {
    description: codes.join(', '),
    ...json(ref('ArrafAuthError')),
    ...(codes.some((c) => c === 'RATE_LIMITED' || c === 'OTP_TOO_MANY_ATTEMPTS') ? { headers: retryAfter } : {}),
  };
}

/** The error responses of `codes`, grouped by their status. */
export function errors(...codes: (keyof typeof ARRAF_AUTH_ERRORS)[]): Record<string, Schema> {
  const byStatus = new Map<number, (keyof typeof ARRAF_AUTH_ERRORS)[]>();
  for (const code of codes) {
    const status = ARRAF_AUTH_ERRORS[code].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return Object.fromEntries([...byStatus].map(([status, list]) => [String(status), error(...list)]));
}

export function body(schema: Schema): Schema {
  return { required: true, ...json(schema) };
}

/** How a new password is refused (sign-up, change, reset). */
export const NEW_PASSWORD_ERRORS = [
  'PASSWORD_TOO_SHORT',
  'PASSWORD_TOO_LONG',
  'PASSWORD_TOO_COMMON',
  'PASSWORD_TOO_PREDICTABLE',
] as const satisfies readonly (keyof typeof ARRAF_AUTH_ERRORS)[];

/** A named group of error codes, checked against the catalogue. */
const errorCodes = <const T extends readonly (keyof typeof ARRAF_AUTH_ERRORS)[]>(...codes: T): T => codes;

/** How a one-time code or link is refused: wrong, expired, or out of guesses. */
export const SECRET_CHECK_ERRORS = errorCodes('OTP_INVALID', 'OTP_EXPIRED', 'INVALID_TOKEN', 'OTP_TOO_MANY_ATTEMPTS');

/** The edge rules every state-changing route declares: the origin check and its rate limits. */
export const EDGE_ERRORS = errorCodes('INVALID_ORIGIN', 'RATE_LIMITED');

export const oneOf = (...names: string[]): Schema => ({ oneOf: names.map(ref) });
