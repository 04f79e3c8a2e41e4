import { z } from 'zod';
import type { EdgeRequest } from '../controllers/edge-request.js';
import { ArrafAuthException } from '../errors/arraf-auth.exception.js';
import { parseBody } from './parse-body.js';

/**
 * The bodies of the second-factor and passkey routes: validated strictly (400 `INVALID_INPUT`
 * naming the field) and described in the OpenAPI output from the same schemas.
 */

const totpCode = z
  .string()
  .regex(/^[0-9]{6}$/)
  .meta({ example: '123456', description: 'The six digits the authenticator app shows.' });
const backupCode = z
  .string()
  .regex(/^[0-9 -]{11,40}$/)
  .meta({ example: '012345-678901-234567', description: 'One of the backup codes, dashes and spaces ignored.' });
const passkeyName = z
  .string()
  .transform((value) => value.normalize('NFC').trim())
  .refine((value) => value.length >= 1 && [...value].length <= 100 && !/[\p{Cc}\p{Cf}]/u.test(value))
  .meta({ example: 'Work laptop', description: 'At most 100 characters.' });
/** A WebAuthn response as `@simplewebauthn/browser` produces it (checked in depth by the server library). */
const webAuthnResponse = z
  .looseObject({ id: z.string().min(1).max(1400), rawId: z.string().min(1).max(1400), type: z.literal('public-key') })
  .meta({ description: 'The JSON of `startRegistration()` / `startAuthentication()`.' });

/** SECURITY-CHECKLIST T5: a change of second factor ends the user's other sessions when asked. */
const revokeOtherSessions = z
  .boolean()
  .optional()
  .meta({ description: 'Also sign out every other session of the user, in the same transaction (default false).' });
const secondFactorFields = { code: totpCode.optional(), backupCode: backupCode.optional() };
/** Exactly one of `code` and `backupCode`. */
function oneSecondFactor<S extends z.ZodType<{ code?: string; backupCode?: string }>>(schema: S) {
  return schema
    .refine((body) => (body.code === undefined) !== (body.backupCode === undefined), {
      path: ['code'],
      message: 'send either code or backupCode',
    })
    .meta({ description: 'Exactly one of `code` and `backupCode`.' });
}

export const TWO_FACTOR_BODIES = {
  twoFactorEnable: z.strictObject({
    password: z.string().min(1).max(1024).optional().meta({ description: 'Checked when given (email accounts).' }),
  }),
  twoFactorCode: z.strictObject({ code: totpCode, revokeOtherSessions }),
  secondFactor: oneSecondFactor(z.strictObject(secondFactorFields)),
  twoFactorDisable: oneSecondFactor(z.strictObject({ ...secondFactorFields, revokeOtherSessions })),
  twoFactorBackupCodes: z.strictObject({ revokeOtherSessions }),
  passkeyRegisterVerify: z.strictObject({ response: webAuthnResponse, name: passkeyName.optional() }),
  passkeyAuthenticateVerify: z.strictObject({ response: webAuthnResponse }),
  passkeyRename: z.strictObject({ name: passkeyName }),
} as const;

export type TwoFactorBodyName = keyof typeof TWO_FACTOR_BODIES;
export type TwoFactorBody<N extends TwoFactorBodyName> = z.output<(typeof TWO_FACTOR_BODIES)[N]>;

const JSON_TYPE = /^application\/json\s*(;|$)/i;

/** The request's JSON body validated by `schema`; with `optional`, a request without a body reads as `{}`. */
export function readTwoFactorBody<N extends TwoFactorBodyName>(
  request: EdgeRequest,
  name: N,
  optional = false,
): TwoFactorBody<N> {
  const type = request.headers['content-type'];
  const empty = request.body === undefined || request.body === null || Object.keys(request.body).length === 0;
  if (type === undefined && optional && empty) return parseBody(TWO_FACTOR_BODIES[name], {}) as TwoFactorBody<N>;
  if (typeof type !== 'string' || !JSON_TYPE.test(type))
    throw new ArrafAuthException('INVALID_INPUT', { field: 'body' });
  return parseBody(TWO_FACTOR_BODIES[name], request.body) as TwoFactorBody<N>;
}
