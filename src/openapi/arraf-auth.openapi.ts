import { ARRAF_AUTH_ERRORS } from '../errors/error-codes.js';

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

type Schema = Record<string, unknown>;

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const str = (extra: Schema = {}): Schema => ({ type: 'string', ...extra });
const nullableStr = (extra: Schema = {}): Schema => ({ type: 'string', nullable: true, ...extra });
const bool: Schema = { type: 'boolean' };
const trueOnly: Schema = { type: 'boolean', enum: [true] };

function object(properties: Record<string, Schema>, required: string[] = Object.keys(properties)): Schema {
  return { type: 'object', additionalProperties: false, required, properties };
}

const phone = str({
  maxLength: 64,
  example: '0551234567',
  description: 'Any common Saudi/GCC form; normalised to E.164.',
});
const email = str({ maxLength: 320, format: 'email', example: 'user@example.sa' });
const password = str({ minLength: 1, example: 'correct horse battery staple' });
const emailCode = str({ pattern: '^[0-9]{6}$', example: '123456' });
const linkToken = str({ pattern: '^[A-Za-z0-9_-]{43}$', description: 'The token from an emailed link.' });
const mode = str({ enum: ['otp', 'link'], default: 'otp', description: 'Deliver a code (`otp`) or a link.' });

/** Request and response bodies; the names are prefixed so they never collide with the application's. */
function schemas(bearer: boolean): Record<string, Schema> {
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
    ArrafAuthOtpSent: object({ success: trueOnly, maskedPhone: str({ example: '+9665****5678' }) }),
    ArrafAuthNextStep: object({ nextStep: str({ enum: ['otp'] }) }),
    ArrafAuthError: object({
      error: object({
        code: str({ enum: Object.keys(ARRAF_AUTH_ERRORS) }),
        en: str({ description: 'Message in English.' }),
        ar: str({ description: 'Message in Arabic.' }),
      }),
    }),

    ArrafAuthOtpSendBody: object({ method: str({ enum: ['phone'] }), phone }),
    ArrafAuthOtpVerifyBody: object(
      {
        method: str({ enum: ['phone'] }),
        phone,
        otp: str({ example: '123456' }),
        name: str({ maxLength: 255, description: 'Used only when this sign-in creates the account.' }),
      },
      ['method', 'phone', 'otp'],
    ),
    ArrafAuthSignUpBody: object({ email, phone, password, name: str({ maxLength: 255 }) }, []),
    ArrafAuthEmailSignInBody: object({ method: str({ enum: ['email'] }), email, password }),
    ArrafAuthPhoneSignInBody: object({ method: str({ enum: ['phone'] }), phone }),
    ArrafAuthChangePasswordBody: object(
      {
        currentPassword: password,
        newPassword: password,
        revokeOtherSessions: { type: 'boolean', default: true },
      },
      ['currentPassword', 'newPassword'],
    ),
    ArrafAuthForgotPasswordEmailBody: object({ method: str({ enum: ['email'] }), email, mode }, ['method', 'email']),
    ArrafAuthForgotPasswordPhoneBody: object({ method: str({ enum: ['phone'] }), phone }),
    ArrafAuthResetPasswordEmailCodeBody: object({
      method: str({ enum: ['email'] }),
      email,
      otp: emailCode,
      newPassword: password,
    }),
    ArrafAuthResetPasswordEmailLinkBody: object(
      { method: str({ enum: ['email'] }), email, token: linkToken, newPassword: password },
      ['method', 'token', 'newPassword'],
    ),
    ArrafAuthResetPasswordPhoneBody: object({
      method: str({ enum: ['phone'] }),
      phone,
      otp: str({ example: '123456' }),
      newPassword: password,
    }),
    ArrafAuthSendVerificationBody: object({ mode }, []),
    ArrafAuthVerifyEmailCodeBody: object({ email, otp: emailCode }),
    ArrafAuthVerifyEmailLinkBody: object({ token: linkToken }),
  };
}

const json = (schema: Schema): Schema => ({ content: { 'application/json': { schema } } });

const setCookie = {
  'Set-Cookie': { description: 'The session cookie (httpOnly).', schema: str() },
};
const retryAfter = {
  'Retry-After': { description: 'Seconds to wait before trying again.', schema: { type: 'integer' } },
};

function ok(description: string, schema: Schema, headers?: Record<string, unknown>): Schema {
  return { description, ...json(schema), ...(headers ? { headers } : {}) };
}

/** An error response listing the codes this route answers with at this status. */
function error(...codes: (keyof typeof ARRAF_AUTH_ERRORS)[]): Schema {
  return {
    description: codes.join(', '),
    ...json(ref('ArrafAuthError')),
    ...(codes.some((c) => c === 'RATE_LIMITED' || c === 'OTP_TOO_MANY_ATTEMPTS') ? { headers: retryAfter } : {}),
  };
}

/** The error responses of `codes`, grouped by their status. */
function errors(...codes: (keyof typeof ARRAF_AUTH_ERRORS)[]): Record<string, Schema> {
  const byStatus = new Map<number, (keyof typeof ARRAF_AUTH_ERRORS)[]>();
  for (const code of codes) {
    const status = ARRAF_AUTH_ERRORS[code].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return Object.fromEntries([...byStatus].map(([status, list]) => [String(status), error(...list)]));
}

function body(schema: Schema): Schema {
  return { required: true, ...json(schema) };
}

/** How a new password is refused (sign-up, change, reset). */
const NEW_PASSWORD_ERRORS = [
  'PASSWORD_TOO_SHORT',
  'PASSWORD_TOO_LONG',
  'PASSWORD_TOO_COMMON',
  'PASSWORD_TOO_PREDICTABLE',
] as const satisfies readonly (keyof typeof ARRAF_AUTH_ERRORS)[];

const oneOf = (...names: string[]): Schema => ({ oneOf: names.map(ref) });

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

  const paths: Record<string, Record<string, unknown>> = {
    [`${prefix}/otp/send`]: {
      post: operation('otpSend', 'Send a sign-in code by SMS', {
        description: `Rate limited per number and per client. ${origin}`,
        requestBody: body(ref('ArrafAuthOtpSendBody')),
        responses: {
          200: ok('Code sent; the number is masked.', ref('ArrafAuthOtpSent')),
          ...errors(
            'INVALID_INPUT',
            'INVALID_PHONE',
            'PHONE_NOT_ALLOWED',
            'INVALID_ORIGIN',
            'RATE_LIMITED',
            'SMS_FAILED',
          ),
        },
      }),
    },
    [`${prefix}/otp/verify`]: {
      post: operation('otpVerify', 'Sign in with the SMS code', {
        description: 'Creates the account on first sign-in and sets the session cookie.',
        requestBody: body(ref('ArrafAuthOtpVerifyBody')),
        responses: {
          200: ok('Signed in.', ref('ArrafAuthOtpVerifyResult'), setCookie),
          ...errors(
            'INVALID_INPUT',
            'INVALID_PHONE',
            'OTP_INVALID',
            'OTP_EXPIRED',
            'HOOK_REJECTED',
            'OTP_TOO_MANY_ATTEMPTS',
          ),
        },
      }),
    },
    [`${prefix}/sign-up`]: {
      post: operation('signUp', 'Create an account and sign in', {
        description: 'An email or a phone number; a password is required with an email.',
        requestBody: body(ref('ArrafAuthSignUpBody')),
        responses: {
          201: ok('Account created and signed in.', ref('ArrafAuthSignInResult'), setCookie),
          ...errors(
            'INVALID_INPUT',
            'INVALID_EMAIL',
            'INVALID_PHONE',
            ...NEW_PASSWORD_ERRORS,
            'HOOK_REJECTED',
            'USER_ALREADY_EXISTS',
            'RATE_LIMITED',
          ),
        },
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
          ...errors(
            'INVALID_INPUT',
            'INVALID_PHONE',
            'INVALID_CREDENTIALS',
            'HOOK_REJECTED',
            'INVALID_ORIGIN',
            'RATE_LIMITED',
            'SMS_FAILED',
          ),
        },
      }),
    },
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
    [`${prefix}/change-password`]: {
      post: operation('changePassword', 'Change the password', {
        description: "Revokes the user's other sessions.",
        security: signedIn,
        requestBody: body(ref('ArrafAuthChangePasswordBody')),
        responses: {
          200: ok('Changed.', ref('ArrafAuthRevoked')),
          ...errors(
            'INVALID_INPUT',
            ...NEW_PASSWORD_ERRORS,
            'INVALID_CREDENTIALS',
            'UNAUTHENTICATED',
            'INVALID_ORIGIN',
            'RATE_LIMITED',
          ),
        },
      }),
    },
    [`${prefix}/forgot-password`]: {
      post: operation('forgotPassword', 'Send a password reset code or link', {
        description: 'The same answer whether or not the account exists.',
        requestBody: body(oneOf('ArrafAuthForgotPasswordEmailBody', 'ArrafAuthForgotPasswordPhoneBody')),
        responses: {
          200: ok('Sent when the account exists.', ref('ArrafAuthSuccess')),
          ...errors(
            'INVALID_INPUT',
            'INVALID_EMAIL',
            'INVALID_PHONE',
            'INVALID_ORIGIN',
            'RATE_LIMITED',
            'SMS_FAILED',
            'DELIVERY_FAILED',
          ),
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
          ...errors(
            'INVALID_INPUT',
            'OTP_INVALID',
            'OTP_EXPIRED',
            'INVALID_TOKEN',
            ...NEW_PASSWORD_ERRORS,
            'OTP_TOO_MANY_ATTEMPTS',
          ),
        },
      }),
    },
    [`${prefix}/verify-email/send`]: {
      post: operation('sendEmailVerification', "Send the signed-in user's email a verification code or link", {
        security: signedIn,
        requestBody: { required: false, ...json(ref('ArrafAuthSendVerificationBody')) },
        responses: {
          200: ok('Sent.', ref('ArrafAuthSuccess')),
          ...errors(
            'INVALID_INPUT',
            'EMAIL_REQUIRED',
            'UNAUTHENTICATED',
            'INVALID_ORIGIN',
            'RATE_LIMITED',
            'DELIVERY_FAILED',
          ),
        },
      }),
    },
    [`${prefix}/verify-email`]: {
      post: operation('verifyEmail', 'Mark an email address verified', {
        requestBody: body(oneOf('ArrafAuthVerifyEmailCodeBody', 'ArrafAuthVerifyEmailLinkBody')),
        responses: {
          200: ok('Verified.', ref('ArrafAuthEmailProven')),
          ...errors('INVALID_INPUT', 'OTP_INVALID', 'OTP_EXPIRED', 'INVALID_TOKEN', 'OTP_TOO_MANY_ATTEMPTS'),
        },
      }),
    },
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
          ...errors('INVALID_INPUT', 'UNKNOWN_PROVIDER', 'OAUTH_PROVIDER_UNAVAILABLE'),
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
            'OAUTH_PROVIDER_UNAVAILABLE',
          ),
        },
      }),
    },
  };

  return {
    paths,
    components: {
      schemas: schemas(bearer),
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
