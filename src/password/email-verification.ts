import { Injectable } from '@nestjs/common';
import { Transactions } from '../database/transactions.js';
import { normalizeEmail } from '../auth/email.util.js';
import { AuthService } from '../auth/auth.service.js';
import { SignInMethodsService } from '../accounts/sign-in-methods.service.js';
import { SignInMethodReview } from '../accounts/sign-in-method-review.js';
import type { User } from '../entities/user.entity.js';
import { ArrafAuthException } from '../errors/arraf-auth.exception.js';
import { SessionService } from '../session/session.service.js';
import { EmailSecretMailer } from './email-secret-mailer.js';
import type { DeliveryMode, VerifyEmailInput } from './password-input.js';
import type { ProvenEmailOutcome } from './password-recovery.js';

/**
 * Email verification (the flows behind `PasswordService.sendEmailVerification` and
 * `verifyEmail`): a code or link to the signed-in user's address, and proving it.
 */
@Injectable()
export class EmailVerification {
  constructor(
    private readonly transactions: Transactions,
    private readonly auth: AuthService,
    private readonly methods: SignInMethodsService,
    private readonly review: SignInMethodReview,
    private readonly sessions: SessionService,
    private readonly mailer: EmailSecretMailer,
  ) {}

  async send(user: User, mode: DeliveryMode): Promise<void> {
    const email = user.email;
    if (!email) throw new ArrafAuthException('EMAIL_REQUIRED');
    if (user.emailVerified) return;
    const deliver = this.mailer.deliveryCallback('onVerifyEmail', 'An email verification');
    if (!deliver) throw new ArrafAuthException('DELIVERY_FAILED');
    await this.mailer.issue(user, email, 'verify-email', mode, deliver);
  }

  async verify(input: VerifyEmailInput): Promise<ProvenEmailOutcome> {
    let user: User;
    let email: string;
    if ('token' in input) {
      const link = await this.mailer.findLink('verify-email', input.token);
      if (!link || !(await this.mailer.consume(link.match))) throw new ArrafAuthException('INVALID_TOKEN');
      user = link.user;
      email = link.user.email!;
    } else {
      email = normalizeEmail(input.email);
      const found = await this.auth.findUserByEmail(email);
      await this.mailer.redeemCode(found, email, 'verify-email', input.otp);
      user = found!;
    }
    const removedMethods = await this.transactions.run(async (tx) => {
      await this.auth.users(tx).update({ id: user.id, email }, { emailVerified: true });
      await this.review.mark(user.id, { emailProvenAt: new Date() }, tx);
      if (user.emailVerified) return [];
      const removed = await this.methods.removeUnprovenMethods(user.id, tx);
      // A removed identity must not stay signed in through the sessions it opened.
      if (removed.length > 0) await this.sessions.revokeUserSessions(user.id, { manager: tx });
      return removed;
    });
    return removedMethods.length > 0 ? { removedMethods } : {};
  }
}
