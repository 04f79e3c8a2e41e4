import { Injectable } from '@nestjs/common';
import { USER_TABLE } from '../arraf-auth.constants.js';
import { AuthService, isUniqueViolation } from '../auth/auth.service.js';
import { normalizeEmail } from '../auth/email.util.js';
import type { User } from '../entities/user.entity.js';
import { ArrafAuthException } from '../errors/arraf-auth.exception.js';
import { EmailSecretMailer } from '../password/email-secret-mailer.js';
import { DeliveryTimings } from '../password/timing-equalizer.js';
import { ChangeNotices } from './change-notices.js';
import type { MethodEventClient } from './method-event-log.js';
import { SignInMethodReview } from './sign-in-method-review.js';
import { SignInMethodsService } from './sign-in-methods.service.js';

/**
 * Adding or changing the account's email: a `change-email` code, bound to the account and the new
 * address, goes out through `callbacks.onVerifyEmail`; the code attaches the address, verified, and
 * the previous one is told (`callbacks.onEmailChanged`). An address another account has gets nothing,
 * with the same answer and about the same timing.
 */
@Injectable()
export class EmailChange {
  constructor(
    private readonly auth: AuthService,
    private readonly mailer: EmailSecretMailer,
    private readonly methods: SignInMethodsService,
    private readonly review: SignInMethodReview,
    private readonly notices: ChangeNotices,
    private readonly timings: DeliveryTimings,
  ) {}

  /** Sends a code to `input` for `user` (502 `DELIVERY_FAILED` without `callbacks.onVerifyEmail`). */
  async send(user: User, input: string): Promise<void> {
    const email = normalizeEmail(input);
    const deliver = this.mailer.deliveryCallback('onVerifyEmail', 'An email change');
    if (!deliver) throw new ArrafAuthException('DELIVERY_FAILED');
    const unavailable = await this.unavailable(user, email);
    await this.timings.deliverOrPad(
      'change-email',
      unavailable ? undefined : () => this.mailer.issue(user, email, 'change-email', 'otp', deliver),
    );
  }

  /** Attaches `input`, proven by `code`, to `user` (verified) and tells the previous address. */
  async confirm(user: User, input: string, code: string, client: MethodEventClient = {}): Promise<void> {
    const email = normalizeEmail(input);
    await this.mailer.redeemCode(user, email, 'change-email', code, async () => {
      if (await this.unavailable(user, email)) throw new ArrafAuthException('INVALID_TOKEN');
    });
    let previous: string | null;
    try {
      previous = await this.methods.change(
        user.id,
        async ({ tx, user: locked, record }) => {
          await tx.getRepository<User>(USER_TABLE).update({ id: user.id }, { email, emailVerified: true });
          await this.review.mark(user.id, { emailProvenAt: new Date() }, tx);
          record({ type: 'method.added', method: 'email', detail: { replaced: locked.email !== null } });
          return locked.email;
        },
        client,
      );
    } catch (error) {
      if (isUniqueViolation(error)) throw new ArrafAuthException('USER_ALREADY_EXISTS');
      throw error;
    }
    if (previous !== null && previous !== email) await this.notices.emailReplaced({ ...user, email }, previous, email);
  }

  /** Whether `email` cannot become `user`'s: another account has it, or it already is theirs, verified. */
  private async unavailable(user: User, email: string): Promise<boolean> {
    const owner = await this.auth.findUserByEmail(email);
    return owner !== null && (owner.id !== user.id || owner.emailVerified);
  }
}
