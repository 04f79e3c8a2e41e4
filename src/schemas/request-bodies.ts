import { z } from 'zod';
import { OTP_MAX_NAME_LENGTH } from '../otp/otp.constants.js';
import { createAccountBodies } from './account-bodies.js';

/**
 * One schema per request body of the built-in routes. Each both validates the body (through
 * `BodyGuard`, strictly: unknown keys, wrong types and sizes are 400 `INVALID_INPUT` naming the
 * field) and describes it in the OpenAPI output (`arrafAuthOpenApi`), so no rule is written twice.
 * Values come out raw where the code that uses them normalises them with its own error codes
 * (email, phone, password policy).
 */

/** Longest raw email or phone string the password routes look at. */
const MAX_IDENTIFIER_LENGTH = 320;
/** Longer than any phone number or code a person types (the OTP routes). */
const MAX_OTP_FIELD_LENGTH = 64;
/** Longest display name, in code points after trimming. */
export const MAX_NAME_LENGTH = 255;
/** A link token: 32 random bytes, base64url. */
const LINK_TOKEN = /^[A-Za-z0-9_-]{43}$/;
/** An emailed code: exactly six ASCII digits. */
const EMAIL_CODE = /^[0-9]{6}$/;
/** C0/C1 controls, line and paragraph separators: never part of an OTP sign-up name. */
const OTP_NAME_FORBIDDEN = /\p{Cc}|[\u2028\u2029]/u;
/** Controls and invisible formatting characters: never part of a display name. */
const NAME_FORBIDDEN = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;

const codePoints = (value: string) => [...value].length;

const email = z.string().min(1).max(MAX_IDENTIFIER_LENGTH).meta({ format: 'email', example: 'user@example.sa' });
const phone = z.string().min(1).max(MAX_IDENTIFIER_LENGTH).meta({
  example: '0551234567',
  description: 'Any common Saudi/GCC form, Arabic-Indic digits included; normalised to E.164.',
});
const otpPhone = phone.max(MAX_OTP_FIELD_LENGTH);
/** A new password: any non-empty string; its size is judged by the password rules (`PASSWORD_TOO_LONG`). */
const newPassword = z.string().min(1).meta({ example: 'correct horse battery staple' });
const emailCode = z.string().regex(EMAIL_CODE).meta({ example: '123456' });
const linkToken = z.string().regex(LINK_TOKEN).meta({ description: 'The token from an emailed link.' });
const channel = z.enum(['sms', 'whatsapp']).optional().meta({
  description:
    'Channel to send the code on; one of `otp.channels`. The same code goes out once on the next channel when this one fails; the answer names the channel used. Default: the first of `otp.channels`.',
});
const mode = z.enum(['otp', 'link']).default('otp').meta({ description: 'Deliver a code (`otp`) or a link.' });

/** A password being checked: a non-empty string of at most `maxBytes` UTF-8 bytes (long-password DoS). */
function password(maxBytes: number) {
  return newPassword.refine((value) => Buffer.byteLength(value, 'utf8') <= maxBytes, 'too long');
}

/** A display name: trimmed, 1 to 255 code points, no control or invisible formatting character; blank is `null`. */
const displayName = z
  .string()
  .max(MAX_NAME_LENGTH * 2)
  .nullable()
  .optional()
  .transform((value) => (value == null ? null : value.normalize('NFC').trim() || null))
  .refine((name) => name === null || (codePoints(name) <= MAX_NAME_LENGTH && !NAME_FORBIDDEN.test(name)))
  .meta({ description: `At most ${MAX_NAME_LENGTH} characters.` });

/** The name an OTP sign-in gives a new account: trimmed, 1 to 100 code points, no control character. */
const otpName = z
  .string()
  .transform((value) => value.normalize('NFC').trim())
  .refine((name) => name !== '' && codePoints(name) <= OTP_MAX_NAME_LENGTH && !OTP_NAME_FORBIDDEN.test(name))
  .meta({ description: `Used only when this sign-in creates the account; at most ${OTP_MAX_NAME_LENGTH} characters.` });

/** Limits some schemas depend on (the configured password length). */
export interface BodySchemaLimits {
  /** Longest password, in UTF-8 bytes, a sign-in or password change reads. */
  maxPasswordBytes: number;
}

const phoneMethod = z.literal('phone');
const emailMethod = z.literal('email');
const phoneSignIn = z.strictObject({ method: phoneMethod, phone, channel });
const forgotEmail = z.strictObject({ method: emailMethod, email, mode });
const forgotPhone = z.strictObject({ method: phoneMethod, phone });
const resetEmailCode = z.strictObject({ method: emailMethod, email, otp: emailCode, newPassword });
const resetEmailLink = z.strictObject({ method: emailMethod, email: email.optional(), token: linkToken, newPassword });
const resetPhone = z.strictObject({
  method: phoneMethod,
  phone,
  otp: z.string().min(1).max(32).meta({ example: '123456' }),
  newPassword,
});
const verifyEmailCode = z.strictObject({ email, otp: emailCode });
const verifyEmailLink = z.strictObject({ token: linkToken });

const signUp = z
  .strictObject({
    email: email.optional(),
    phone: phone.optional(),
    otp: z.string().min(1).max(MAX_OTP_FIELD_LENGTH).optional().meta({ example: '123456' }),
    password: newPassword.optional(),
    name: displayName,
  })
  .superRefine((body, context) => {
    if (body.email === undefined && body.phone === undefined)
      context.addIssue({ code: 'custom', path: ['email'], message: 'email or phone is required' });
    else if (body.email !== undefined && body.password === undefined)
      context.addIssue({ code: 'custom', path: ['password'], message: 'a password is required with an email' });
    // A phone enters an account only through the code sent to it (`POST otp/send`).
    if (body.phone !== undefined && body.otp === undefined)
      context.addIssue({ code: 'custom', path: ['otp'], message: 'a phone needs the code sent to it' });
    if (body.phone === undefined && body.otp !== undefined)
      context.addIssue({ code: 'custom', path: ['otp'], message: 'a code goes with a phone' });
  })
  .meta({
    description:
      'An email or a phone number; a password is required with an email, and a phone needs the sign-in code sent to it by `POST otp/send` (`otp`).',
  });

/** The bodies that do not depend on the configured limits. */
const FIXED_BODIES = {
  otpSend: z.strictObject({ method: phoneMethod, phone: otpPhone, channel }),
  otpVerify: z.strictObject({
    method: phoneMethod,
    phone: otpPhone,
    otp: z.string().min(1).max(MAX_OTP_FIELD_LENGTH).meta({ example: '123456' }),
    name: otpName.optional(),
  }),
  signUp,
  phoneSignIn,
  forgotEmail,
  forgotPhone,
  forgotPassword: z.discriminatedUnion('method', [forgotEmail, forgotPhone]),
  resetEmailCode,
  resetEmailLink,
  resetPhone,
  resetPassword: z.union([resetEmailLink, resetEmailCode, resetPhone]),
  sendVerification: z.strictObject({ mode }),
  verifyEmailCode,
  verifyEmailLink,
  verifyEmail: z.union([verifyEmailLink, verifyEmailCode]),
};

/** The body schemas of every built-in route, for these limits. */
export function createBodySchemas({ maxPasswordBytes }: BodySchemaLimits) {
  const emailSignIn = z.strictObject({ method: emailMethod, email, password: password(maxPasswordBytes) });
  return {
    ...FIXED_BODIES,
    ...createAccountBodies(maxPasswordBytes),
    emailSignIn,
    signIn: z.discriminatedUnion('method', [emailSignIn, phoneSignIn]),
    changePassword: z.strictObject({
      currentPassword: password(maxPasswordBytes),
      newPassword,
      revokeOtherSessions: z.boolean().optional().default(true),
    }),
  };
}

/** The body schemas, by route. */
export type BodySchemas = ReturnType<typeof createBodySchemas>;
/** The name of a body schema, as `@RequestBody()` takes it. */
export type BodySchemaName = keyof BodySchemas;
/** A body as its route reads it, once validated. */
export type ParsedBody<N extends BodySchemaName> = z.output<BodySchemas[N]>;
