import { inputSchema } from '../openapi/openapi.bodies.js';
import type { PathContext, Paths } from '../openapi/openapi.paths.js';
import { nullableStr, object, ok, ref, type Schema, str } from '../openapi/openapi.schemas.js';
import { signedInOperation } from '../openapi/openapi.signed-in.js';
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
export function accountDataPaths(context: PathContext): Paths {
  const { prefix } = context;
  const fresh = 'Needs a fresh session (403 `SESSION_NOT_FRESH`).';
  return {
    [`${prefix}/account/export`]: {
      get: signedInOperation(context, {
        id: 'exportAccount',
        summary: 'Everything stored about the signed-in user',
        description:
          'The user row, sign-in methods, sessions, passkeys, second-factor state, pending one-time secrets (type and expiry) and security events, as a JSON download. No password hash, token, token hash or secret. Recorded as `account.exported`. Refused from another site (an untrusted `Origin` or `Referer`, or `Sec-Fetch-Site: cross-site`).',
        origin: true,
        result: ok('The export.', ref('ArrafAuthAccountExport')),
        codes: ['SERVICE_UNAVAILABLE'],
      }),
    },
    [`${prefix}/account/delete/code`]: {
      post: signedInOperation(context, {
        id: 'sendAccountDeleteCode',
        summary: 'Send the code that confirms deleting the account',
        description: `An SMS (or WhatsApp) code to the verified phone, valid for \`DELETE account\` only. ${fresh}`,
        fresh: true,
        origin: 'noted',
        limited: true,
        result: ok(
          'Sent.',
          object({
            success: { type: 'boolean', enum: [true] },
            maskedPhone: str(),
            channel: str({ enum: ['sms', 'whatsapp'] }),
          }),
        ),
        codes: ['PHONE_NOT_VERIFIED', 'SMS_FAILED'],
      }),
    },
    [`${prefix}/account`]: {
      delete: signedInOperation(context, {
        id: 'deleteAccount',
        summary: 'Delete the account and everything that references it',
        description: `With the current password or the code from \`POST account/delete/code\`. One transaction; every session ends at once; only a pseudonymous \`account.deleted\` event stays. ${fresh}`,
        fresh: true,
        origin: 'noted',
        limited: true,
        body: 'ArrafAuthAccountDeleteBody',
        result: ok('Deleted; the session cookie is cleared.', ref('ArrafAuthSuccess')),
        // RATE_LIMITED listed to keep its place after OTP_TOO_MANY_ATTEMPTS (both 429).
        codes: ['INVALID_INPUT', 'INVALID_CREDENTIALS', 'OTP_EXPIRED', 'OTP_TOO_MANY_ATTEMPTS', 'RATE_LIMITED'],
      }),
    },
  };
}
