import type { ParsedBody } from '../schemas/request-bodies.js';

/**
 * The bodies of the password routes as PasswordService reads them, once `BodyGuard` has
 * validated them against the schemas of `src/schemas/request-bodies.ts` (the one place their rules
 * are written). Email, phone and password are still raw: the service normalises them with its own
 * error codes.
 */

/** How a reset or verification secret is delivered. */
export type DeliveryMode = 'otp' | 'link';

export type SignUpInput = ParsedBody<'signUp'>;

export type SignInInput = ParsedBody<'signIn'>;

export type ChangePasswordInput = ParsedBody<'changePassword'>;

export type ForgotPasswordInput = ParsedBody<'forgotPassword'>;

export type ResetPasswordInput = ParsedBody<'resetPassword'>;

export type VerifyEmailInput = ParsedBody<'verifyEmail'>;
