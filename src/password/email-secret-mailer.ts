import { Inject, Injectable, Logger } from '@nestjs/common';
import { ARRAF_AUTH_OPTIONS } from '../arraf-auth.constants.js';
import { AuthService } from '../auth/auth.service.js';
import { safeEqual, sha256 } from '../crypto/crypto.util.js';
import type { User } from '../entities/user.entity.js';
import { ArrafAuthException } from '../errors/arraf-auth.exception.js';
import type { ResolvedArrafAuthOptions, VerificationDelivery } from '../options/arraf-auth-options.interface.js';
import { tooManyRequests } from '../rate-limit/rate-limit.errors.js';
import {
  type EmailTokenPurpose,
  emailSecretPolicy,
  emailSubject,
  parseEmailBinding,
} from '../verification/email-secrets.js';
import type { IssuedSecret, VerificationMatch } from '../verification/verification.interfaces.js';
import { VerificationService } from '../verification/verification.service.js';
import type { DeliveryMode } from './password-input.js';
import { errorMessage } from '../utils/error-message.js';

/**
 * Emailed codes and links (password reset, email verification) on top of `VerificationService`:
 * issue and hand to the application's callback, redeem a code, find a live link bound to the
 * address the account still has.
 */
@Injectable()
export class EmailSecretMailer {
  private readonly logger = new Logger('ArrafAuth');

  constructor(
    @Inject(ARRAF_AUTH_OPTIONS) private readonly options: ResolvedArrafAuthOptions,
    private readonly verifications: VerificationService,
    private readonly auth: AuthService,
  ) {}

  /**
   * The application's callback that delivers the codes and links of `flow` (`A password reset`), or
   * `undefined`, logged as the setup error it is, when it is not set: nothing can be sent.
   */
  deliveryCallback(
    name: 'onVerifyEmail' | 'onForgotPassword',
    flow: string,
  ): ((delivery: VerificationDelivery) => unknown) | undefined {
    const deliver = this.options.callbacks[name];
    if (!deliver) this.logger.error(`${flow} was requested but callbacks.${name} is not set: nothing was sent`);
    return deliver;
  }

  /**
   * Issues a code or link for `user` at `email` and hands it to `deliver`. A failed delivery is 502
   * `DELIVERY_FAILED` and deletes the new secret (older ones stay valid); once it succeeds, older
   * secrets of the purpose stop working, for every address of the account.
   */
  async issue(
    user: User,
    email: string,
    purpose: EmailTokenPurpose,
    mode: DeliveryMode,
    deliver: (delivery: VerificationDelivery) => unknown,
  ): Promise<void> {
    const policy = emailSecretPolicy(purpose, mode, this.options.otp.maxAttempts);
    try {
      await this.verifications.issue(policy, emailSubject(user.id, email, purpose), {
        replaceOlder: 'after-delivery',
        replaceScope: user.id,
        deliver: async (issued) => {
          try {
            await deliver(this.delivery(user, email, mode, issued, purpose));
          } catch (error) {
            throw new DeliveryFailure(error);
          }
        },
      });
    } catch (error) {
      if (!(error instanceof DeliveryFailure)) throw error;
      this.logger.error(`Delivering the ${purpose} ${mode} failed: ${errorMessage(error.cause)}`);
      throw new ArrafAuthException('DELIVERY_FAILED', { cause: error.cause });
    }
  }

  /**
   * Checks an emailed code for the account `user` (or nobody: an unknown address takes the same
   * path and budget) at `email`, then consumes it. 400 `INVALID_TOKEN` for a wrong, expired,
   * used-up or used code; 429 `RATE_LIMITED` once the address has had 3 × `otp.maxAttempts`
   * guesses in the hour, whatever the number of new codes.
   */
  async redeemCode(
    user: User | null,
    email: string,
    purpose: EmailTokenPurpose,
    code: string,
    beforeConsume?: () => void,
  ): Promise<void> {
    const policy = emailSecretPolicy(purpose, 'otp', this.options.otp.maxAttempts);
    const check = await this.verifications.redeemCode(policy, emailSubject(user?.id, email, purpose), code, {
      beforeConsume,
    });
    if (check.ok) return;
    if (check.reason === 'budget') throw tooManyRequests('RATE_LIMITED', check.retryAt);
    if (check.reason === 'exhausted' && check.budgetResetAt !== undefined)
      throw tooManyRequests('RATE_LIMITED', check.budgetResetAt);
    throw new ArrafAuthException('INVALID_TOKEN');
  }

  /** The live link for `token` and its account, or `null` when it is bound to an address the account no longer has. */
  async findLink(purpose: EmailTokenPurpose, token: string): Promise<{ match: VerificationMatch; user: User } | null> {
    const match = await this.verifications.findLink(emailSecretPolicy(purpose, 'link', 1), token);
    const binding = match ? parseEmailBinding(match.identifier) : null;
    if (!match || !binding) return null;
    const user = await this.auth.users().findOneBy({ id: binding.userId });
    if (!user?.email || !safeEqual(sha256(user.email), binding.emailTag)) return null;
    return { match, user };
  }

  /** Consumes a link found by `findLink`; `false` when another request used it first. */
  consume(match: VerificationMatch): Promise<boolean> {
    return this.verifications.consume(match);
  }

  private delivery(
    user: User,
    email: string,
    mode: DeliveryMode,
    issued: IssuedSecret,
    purpose: EmailTokenPurpose,
  ): VerificationDelivery {
    const { secret, expiresAt } = issued;
    if (mode === 'otp') return { user, identifier: email, mode, code: secret, expiresAt };
    const delivery: VerificationDelivery = { user, identifier: email, mode, token: secret, expiresAt };
    if (this.options.appUrl !== undefined) delivery.url = `${this.options.appUrl}/${purpose}?token=${secret}`;
    return delivery;
  }
}

/** A delivery callback that threw; kept apart from database errors, which are not a 502. */
class DeliveryFailure extends Error {
  constructor(override readonly cause: unknown) {
    super('delivery failed');
  }
}
