import { z } from 'zod';

/**
 * The bodies of the sign-in method routes (`account/*`) and of `DELETE account`, merged into the schemas `BodyGuard`
 * validates with and the OpenAPI output describes. Raw values are normalised by the services
 * (phone to E.164, email NFKC and lower case, password rules).
 */

const MAX_IDENTIFIER_LENGTH = 320;
const phone = z.string().min(1).max(64).meta({
  example: '0551234567',
  description: 'The new number, in any common Saudi/GCC form; normalised to E.164.',
});
const email = z.string().min(1).max(MAX_IDENTIFIER_LENGTH).meta({ format: 'email', example: 'user@example.sa' });
const smsCode = z.string().min(1).max(32).meta({ example: '123456', description: 'The code sent to the new number.' });
const emailCode = z
  .string()
  .regex(/^[0-9]{6}$/)
  .meta({ example: '123456', description: 'The code sent to the new address.' });
const channel = z.enum(['sms', 'whatsapp']).optional().meta({ description: 'As in `POST otp/send`.' });

/** The account bodies, for the configured password size cap (bytes). */
export function createAccountBodies(maxPasswordBytes: number) {
  const password = z
    .string()
    .min(1)
    .refine((value) => Buffer.byteLength(value, 'utf8') <= maxPasswordBytes, 'too long');
  return {
    accountPhoneSend: z.strictObject({ phone, channel }),
    accountPhoneConfirm: z.strictObject({ phone, otp: smsCode }),
    accountEmailSend: z.strictObject({ email }),
    accountEmailConfirm: z.strictObject({ email, otp: emailCode }),
    accountPasswordSet: z.strictObject({
      newPassword: z.string().min(1).meta({ example: 'correct horse battery staple' }),
    }),
    accountPasswordRemove: z.strictObject({
      currentPassword: password.meta({ description: 'The password being removed.' }),
    }),
    accountMethodsAcknowledge: z.strictObject({
      currentPassword: password.meta({
        description: 'The account password: after an email-proven reset, only the email owner knows it.',
      }),
    }),
    accountDelete: z
      .strictObject({
        password: password.optional().meta({ description: 'The current password (accounts that have one).' }),
        otp: z.string().min(1).max(32).optional().meta({
          example: '123456',
          description: 'The code `POST /auth/account/delete/code` sent to the verified phone.',
        }),
      })
      .refine((body) => (body.password === undefined) !== (body.otp === undefined), {
        path: ['password'],
        message: 'send either password or otp',
      })
      .meta({ description: 'Exactly one of `password` and `otp`.' }),
  };
}
