import type { RemovedSignInMethod } from '../accounts/sign-in-methods.service.js';
import type { Session } from '../entities/session.entity.js';
import type { User } from '../entities/user.entity.js';

type Hook<T> = (context: T) => void | Promise<void>;

/**
 * Hooks the library calls around its flows, in this order on a first sign-in: `beforeSignUp`,
 * `afterSignUp`, `beforeSignIn`, `afterSignIn` (then `afterOtpVerified` for phone codes).
 * A hook that throws stops the flow and no session is left: an `HttpException` it throws is
 * answered as is, anything else as 403 `HOOK_REJECTED`.
 */
export interface ArrafAuthHooks {
  /** Before a new user is stored; `user` is not saved yet. */
  beforeSignUp?: Hook<{ user: Partial<User>; method: SignInMethod }>;
  /** After a new user is stored, before its first session. */
  afterSignUp?: Hook<{ user: User; method: SignInMethod }>;
  /**
   * Before a session is created for a successful sign-in; with a second factor, before the
   * second-factor step instead (once per sign-in: not again when the step completes).
   */
  beforeSignIn?: Hook<{ user: User; method: SignInMethod }>;
  /** After the session is created; throwing revokes it. */
  afterSignIn?: Hook<{ user: User; session: Session; method: SignInMethod }>;
  /** Before a session is revoked by `POST /auth/sign-out`. */
  beforeSignOut?: Hook<{ user: User; session: Session }>;
  /** After a phone code was verified and the session created; throwing revokes it. */
  afterOtpVerified?: Hook<{ user: User; session: Session; phone: string; isNewUser: boolean }>;
}

/** How a user signed in. */
export type SignInMethod = 'phone' | 'email' | 'oauth' | 'passkey';

/** What the application needs to deliver a code or link by email (or SMS) itself. */
export interface VerificationDelivery {
  user: User;
  /** The email address or E.164 phone number the secret is bound to. */
  identifier: string;
  /** `'otp'`: a numeric `code` to type; `'link'`: a `token` to put in a URL (`url` when `appUrl` is set). */
  mode: 'otp' | 'link';
  code?: string;
  token?: string;
  url?: string;
  expiresAt: Date;
}

/** Callbacks that deliver messages the library cannot send itself (email). A throw fails the request cleanly. */
export interface ArrafAuthCallbacks {
  /** Send the email verification code or link; also the code proving a new address (`POST account/email/send`). */
  onVerifyEmail?: (delivery: VerificationDelivery) => void | Promise<void>;
  /** Send the password reset code or link (email method; the phone method uses SMS). */
  onForgotPassword?: (delivery: VerificationDelivery) => void | Promise<void>;
  /**
   * Tell the user their password changed (after a change or a reset). `removedMethods` lists the
   * sign-in methods a reset took off the account because its email had not been proven before
   * (empty otherwise): tell the owner, they may not recognise them.
   */
  onPasswordChanged?: (context: {
    user: User;
    reason: 'change' | 'reset';
    removedMethods: RemovedSignInMethod[];
  }) => void | Promise<void>;
  /** Tell the previous address the account's email changed (`POST account/email`); a failure is only logged. */
  onEmailChanged?: (context: { user: User; previousEmail: string; newEmail: string }) => void | Promise<void>;
}
