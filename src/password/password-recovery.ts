import { Inject, Injectable } from '@nestjs/common';
import { Transactions } from '../database/transactions.js';
import { ARRAF_AUTH_OPTIONS } from '../arraf-auth.constants.js';
import { normalizeEmail } from '../auth/email.util.js';
import { AuthService } from '../auth/auth.service.js';
import { type RemovedSignInMethod, SignInMethodsService } from '../accounts/sign-in-methods.service.js';
import { SignInMethodReview, type UnrecognisedMethod } from '../accounts/sign-in-method-review.js';
import type { User } from '../entities/user.entity.js';
import { ArrafAuthException } from '../errors/arraf-auth.exception.js';
import type { ResolvedArrafAuthOptions } from '../options/arraf-auth-options.interface.js';
import { OtpService } from '../otp/otp.service.js';
import { RateLimiter } from '../rate-limit/rate-limiter.js';
import { SessionService } from '../session/session.service.js';
import { VERIFICATION_TYPES } from '../verification/verification.constants.js';
import { VerificationService } from '../verification/verification.service.js';
import { allowedPhone } from './allowed-phone.js';
import { EmailSecretMailer } from './email-secret-mailer.js';
import type { ForgotPasswordInput, ResetPasswordInput } from './password-input.js';
import { PasswordCredentials } from './password-credentials.js';
import { SecurityEventsService } from '../security-events/security-events.service.js';
import { PasswordHasher } from './password-hasher.js';
import { DeliveryTimings } from './timing-equalizer.js';

/** The client a phone code is asked for or entered from: its address counts for the per-client code limits. */
export interface OtpClient {
  ip?: string;
  /** Recorded with the security event of a sign-up or reset. */
  userAgent?: string | null;
}

/** What OtpService throws for a code that does not work; a reset answers all of them `INVALID_TOKEN`. */
const OTP_FAILURES: ReadonlySet<string> = new Set(['OTP_INVALID', 'OTP_EXPIRED', 'OTP_TOO_MANY_ATTEMPTS']);

/**
 * What proving an email by a reset or a verification did beyond that: `removedMethods` when OAuth
 * identities its owner never proved were taken off the account (absent when none were).
 */
export interface ProvenEmailOutcome {
  removedMethods?: RemovedSignInMethod[];
  /**
   * After an email-proven reset: the sign-in methods added since the email was last proven
   * (absent when none), for the owner to review and remove (see `GET account/methods`).
   */
  unrecognised?: UnrecognisedMethod[];
}

/** Languages an SMS can be written in. */
export type MessageLocale = 'ar' | 'en';

/**
 * Forgot and reset password (the flows behind `PasswordService.requestPasswordReset` and
 * `resetPassword`): a code or link by email, a code by SMS to a verified number, and the reset
 * itself, which sets the password and ends every session in one transaction.
 */
@Injectable()
export class PasswordRecovery {
  constructor(
    @Inject(ARRAF_AUTH_OPTIONS) private readonly options: ResolvedArrafAuthOptions,
    private readonly transactions: Transactions,
    private readonly auth: AuthService,
    private readonly otp: OtpService,
    private readonly limiter: RateLimiter,
    private readonly verifications: VerificationService,
    private readonly methods: SignInMethodsService,
    private readonly review: SignInMethodReview,
    private readonly sessions: SessionService,
    private readonly hasher: PasswordHasher,
    private readonly credentials: PasswordCredentials,
    private readonly mailer: EmailSecretMailer,
    private readonly events: SecurityEventsService,
    private readonly timings: DeliveryTimings,
  ) {}

  async request(input: ForgotPasswordInput, locale?: MessageLocale, client: OtpClient = {}): Promise<void> {
    if (input.method === 'phone') {
      const phone = allowedPhone(input.phone, this.options.phone);
      const user = await this.auth.findUserByPhone(phone);
      // An unverified number is only a claim: its owner must not be able to take the account.
      const send = user?.phoneVerified
        ? () => this.otp.send(phone, 'reset-password', locale, { ip: client.ip })
        : undefined;
      try {
        await this.timings.deliverOrPad('reset-password:phone', send);
      } catch (error) {
        // A resend limit only ever shows for existing accounts: answering it would tell them apart.
        if (error instanceof ArrafAuthException && error.code === 'RATE_LIMITED') return;
        throw error;
      }
      return;
    }

    const email = normalizeEmail(input.email);
    const user = await this.auth.findUserByEmail(email);
    const deliver = user ? this.mailer.deliveryCallback('onForgotPassword', 'A password reset') : undefined;
    await this.timings.deliverOrPad(
      'reset-password:email',
      user && deliver ? () => this.mailer.issue(user, email, 'reset-password', input.mode, deliver) : undefined,
    );
  }

  async reset(input: ResetPasswordInput, client: OtpClient = {}): Promise<ProvenEmailOutcome> {
    if (input.method === 'phone') return this.resetWithPhoneCode(input.phone, input.otp, input.newPassword, client);
    if ('token' in input) {
      const link = await this.mailer.findLink('reset-password', input.token);
      if (!link) throw new ArrafAuthException('INVALID_TOKEN');
      const { user } = link;
      if (input.email !== undefined && normalizeEmail(input.email) !== user.email)
        throw new ArrafAuthException('INVALID_TOKEN');
      const password = this.hasher.checkNewPassword(input.newPassword, { email: user.email, name: user.name });
      if (!(await this.mailer.consume(link.match))) throw new ArrafAuthException('INVALID_TOKEN');
      return this.finishReset(user, password, { emailVerified: true }, client);
    }

    const email = normalizeEmail(input.email);
    const user = await this.auth.findUserByEmail(email);
    let password = '';
    await this.mailer.redeemCode(user, email, 'reset-password', input.otp, () => {
      password = this.hasher.checkNewPassword(input.newPassword, { email, name: user?.name });
    });
    return this.finishReset(user!, password, { emailVerified: true }, client);
  }

  private async resetWithPhoneCode(
    input: string,
    code: string,
    newPassword: string,
    client: OtpClient,
  ): Promise<ProvenEmailOutcome> {
    const phone = allowedPhone(input, this.options.phone);
    const user = await this.auth.findUserByPhone(phone);
    let password = '';
    try {
      await this.otp.verify(phone, 'reset-password', code, {
        ip: client.ip,
        beforeConsume: () => {
          // An unverified number is only a claim; without an account there is nothing to reset.
          if (!user?.phoneVerified || user.phone !== phone) throw new ArrafAuthException('INVALID_TOKEN');
          password = this.hasher.checkNewPassword(newPassword, { email: user.email, name: user.name });
        },
      });
    } catch (error) {
      // One answer for wrong, expired and used-up codes: a number without an account never has a
      // code to use up, so a distinct "too many attempts" would tell the two apart.
      if (error instanceof ArrafAuthException && OTP_FAILURES.has(error.code))
        throw new ArrafAuthException('INVALID_TOKEN');
      throw error;
    }
    return this.finishReset(user!, password, { phoneVerified: true }, client);
  }

  /**
   * Sets the new password, marks the proven address verified, removes unproven sign-in methods,
   * ends every session and voids outstanding reset secrets: all in one transaction, so a failure
   * of any step leaves the old password and the old sessions as they were.
   */
  private async finishReset(
    user: User,
    password: string,
    verified: Partial<Pick<User, 'emailVerified' | 'phoneVerified'>>,
    client: OtpClient,
  ): Promise<ProvenEmailOutcome> {
    const hash = await this.hasher.hash(password);
    const provesEmail = verified.emailVerified === true && !user.emailVerified;
    let removedMethods: RemovedSignInMethod[] = [];
    let unrecognised: UnrecognisedMethod[] = [];
    await this.transactions.run(async (tx) => {
      await this.credentials.save(user.id, hash, tx);
      await this.auth.users(tx).update({ id: user.id }, verified);
      if (provesEmail) removedMethods = await this.methods.removeUnprovenMethods(user.id, tx);
      if (verified.emailVerified === true) unrecognised = await this.review.open(user.id, new Date(), tx);
      await this.sessions.revokeUserSessions(user.id, { manager: tx });
      await this.verifications.revoke(VERIFICATION_TYPES.emailResetPassword, user.id, tx);
      const { ip, userAgent } = client;
      const method = verified.emailVerified ? 'email' : 'phone';
      await this.events.record({ type: 'password.reset', userId: user.id, method, ip, userAgent }, { manager: tx });
    });
    Object.assign(user, verified);
    // Recovery ends a lockout: the new password works at once, from any address.
    if (user.email) await this.limiter.reset('sign-in:account', user.email);
    await this.limiter.reset('change-password:account', user.id);
    await this.credentials.notifyChanged(user, 'reset', removedMethods);
    return {
      ...(removedMethods.length > 0 ? { removedMethods } : {}),
      ...(unrecognised.length > 0 ? { unrecognised } : {}),
    };
  }
}
