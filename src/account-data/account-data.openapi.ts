import { inputSchema } from '../openapi/openapi.bodies.js';
import type { PathContext, Paths } from '../openapi/openapi.paths.js';
import { body, errors, nullableStr, object, ok, ref, type Schema, str } from '../openapi/openapi.schemas.js';
import { createAccountBodies } from '../schemas/account-bodies.js';

const date = str({ format: 'date-time' });
const list = (items: Schema): Schema => ({ type: 'array', items });

/**
 * The components the account data routes refer to; the delete body is the schema `BodyGuard` reads
 * it with, for the default limits as in `requestBodySchemas` (the byte cap is not JSON Schema).
 */
export function accountDataComponents(): Record<string, Schema> {
  const { accountDelete } = createAccountBodies(1024);
  return {
    ArrafAuthAccountDeleteBody: inputSchema(accountDelete),
    ArrafAuthAccountExport: object({
      exportedAt: date,
      user: { type: 'object', additionalProperties: true, description: 'Every column of the user row.' },
      accounts: list(
        object(
          {
            id: str(),
            providerId: str({ example: 'google' }),
            accountId: str({ description: "The provider's subject; absent for the password (`credential`)." }),
            scope: nullableStr(),
            createdAt: date,
            updatedAt: date,
          },
          ['id', 'providerId', 'scope', 'createdAt', 'updatedAt'],
        ),
      ),
      sessions: list(
        object({
          id: str(),
          createdAt: date,
          expiresAt: date,
          lastActiveAt: date,
          ipAddress: nullableStr(),
          userAgent: nullableStr(),
        }),
      ),
      passkeys: list({
        type: 'object',
        additionalProperties: true,
        description: 'Name, credential id, public key, dates.',
      }),
      twoFactor: { ...object({ enabled: { type: 'boolean' }, createdAt: date }), nullable: true },
      pendingVerifications: list(object({ type: str({ example: 'email:reset-password' }), expiresAt: date })),
      securityEvents: list({
        type: 'object',
        additionalProperties: true,
        description: 'As `GET account/events` lists them.',
      }),
    }),
  };
}

/** `GET account/export`, `POST account/delete/code`, `DELETE account`. */
export function accountDataPaths({ prefix, signedIn, origin, operation }: PathContext): Paths {
  const fresh = 'Needs a fresh session (403 `SESSION_NOT_FRESH`).';
  return {
    [`${prefix}/account/export`]: {
      get: operation('exportAccount', 'Everything stored about the signed-in user', {
        description:
          'The user row, sign-in methods, sessions, passkeys, second-factor state, pending one-time secrets (type and expiry) and security events, as a JSON download. No password hash, token, token hash or secret. Recorded as `account.exported`. Refused from another site (an untrusted `Origin` or `Referer`, or `Sec-Fetch-Site: cross-site`).',
        security: signedIn,
        responses: {
          200: ok('The export.', ref('ArrafAuthAccountExport')),
          ...errors('INVALID_ORIGIN', 'UNAUTHENTICATED', 'SERVICE_UNAVAILABLE'),
        },
      }),
    },
    [`${prefix}/account/delete/code`]: {
      post: operation('sendAccountDeleteCode', 'Send the code that confirms deleting the account', {
        description: `An SMS (or WhatsApp) code to the verified phone, valid for \`DELETE account\` only. ${fresh} ${origin}`,
        security: signedIn,
        responses: {
          200: ok(
            'Sent.',
            object({
              success: { type: 'boolean', enum: [true] },
              maskedPhone: str(),
              channel: str({ enum: ['sms', 'whatsapp'] }),
            }),
          ),
          ...errors(
            'UNAUTHENTICATED',
            'SESSION_NOT_FRESH',
            'PHONE_NOT_VERIFIED',
            'RATE_LIMITED',
            'SMS_FAILED',
            'INVALID_ORIGIN',
          ),
        },
      }),
    },
    [`${prefix}/account`]: {
      delete: operation('deleteAccount', 'Delete the account and everything that references it', {
        description: `With the current password or the code from \`POST account/delete/code\`. One transaction; every session ends at once; only a pseudonymous \`account.deleted\` event stays. ${fresh} ${origin}`,
        security: signedIn,
        requestBody: body(ref('ArrafAuthAccountDeleteBody')),
        responses: {
          200: ok('Deleted; the session cookie is cleared.', ref('ArrafAuthSuccess')),
          ...errors(
            'INVALID_INPUT',
            'UNAUTHENTICATED',
            'INVALID_CREDENTIALS',
            'SESSION_NOT_FRESH',
            'OTP_EXPIRED',
            'OTP_TOO_MANY_ATTEMPTS',
            'RATE_LIMITED',
            'INVALID_ORIGIN',
          ),
        },
      }),
    },
  };
}
