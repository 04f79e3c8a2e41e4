import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import CustomStrategy from 'passport-custom';
import type { EntityManager } from 'typeorm';
import { AuthService } from '../auth/auth.service.js';
import { type FailedSignIn, StrategyAuthGuard } from '../auth/strategy-auth.guard.js';
import { allowedPhone } from '../password/allowed-phone.js';
import type { EdgeRequest } from '../controllers/edge-request.js';
import type { User } from '../entities/user.entity.js';
import { ArrafAuthException } from '../errors/arraf-auth.exception.js';
import { BodyReader } from '../schemas/body.guard.js';
import { OTP_STRATEGY_NAME } from './otp.constants.js';
import { OtpService } from './otp.service.js';

/** What a successful phone + code sign-in leaves in `request.authInfo` beside `request.user`. */
export interface OtpSignIn {
  user: User;
  /** The verified number, E.164. */
  phone: string;
  /** Whether this sign-in created the user. */
  isNewUser: boolean;
}

/**
 * Passport strategy `'arraf-otp'`: reads `{ method: 'phone', phone, otp, name? }` from the JSON
 * body (strictly: anything else is 400 `INVALID_INPUT`), verifies the sign-in code and finds or
 * creates the user: `request.user` is the `User`, `request.authInfo` the {@link OtpSignIn}. Only an
 * account whose phone is verified is ever selected by the number. Run it through
 * {@link OtpAuthGuard}.
 */
@Injectable()
export class OtpStrategy extends PassportStrategy(CustomStrategy, OTP_STRATEGY_NAME) {
  constructor(
    protected readonly otp: OtpService,
    protected readonly auth: AuthService,
    @Inject(BodyReader) protected readonly bodies: BodyReader,
  ) {
    super();
  }

  async validate(request: EdgeRequest): Promise<[User, OtpSignIn]> {
    const body = this.bodies.read(request, 'otpVerify');
    const phone = await this.otp.verify(body.phone, 'sign-in', body.otp, { ip: request.ip });
    const { user, isNewUser } = await this.findOrCreateUser(phone, body.name);
    return [user, { user, phone, isNewUser }];
  }

  /**
   * The account that owns the verified number, or a new one. An account that merely lists the
   * number without having verified it is never selected: the number's owner gets a new account and
   * the unverified claim is removed from the other one, in the insert's transaction.
   */
  protected async findOrCreateUser(
    phone: string,
    name: string | undefined,
  ): Promise<{ user: User; isNewUser: boolean }> {
    for (let attempt = 0; ; attempt++) {
      const existing = await this.auth.findUserByPhone(phone);
      if (existing?.phoneVerified) return { user: existing, isNewUser: false };
      const releaseClaim = existing
        ? async (_user: User, tx: EntityManager) => {
            await this.auth.users(tx).update({ id: existing.id, phone, phoneVerified: false }, { phone: null });
          }
        : undefined;
      try {
        const user = await this.auth.createUser(
          { phone, phoneVerified: true, name: name ?? null },
          'phone',
          undefined,
          undefined,
          releaseClaim,
        );
        return { user, isNewUser: true };
      } catch (error) {
        // Another request stored the number first (a concurrent sign-in or sign-up): look again.
        if (attempt >= 2 || !(error instanceof ArrafAuthException && error.code === 'USER_ALREADY_EXISTS')) throw error;
      }
    }
  }
}

/**
 * Runs {@link OtpStrategy} and answers its errors in the library's shape (`OTP_INVALID`,
 * `OTP_EXPIRED`, `OTP_TOO_MANY_ATTEMPTS` with Retry-After, `INVALID_INPUT`).
 *
 * @example @Post('phone/verify') @UseGuards(OtpAuthGuard) signIn(@CurrentUser() user: User) {}
 */
@Injectable()
export class OtpAuthGuard extends StrategyAuthGuard {
  protected readonly strategyType = OtpStrategy;
  protected readonly failureCode = 'OTP_INVALID';

  /** `phone`, on the account that owns the (verified) number when there is one. */
  protected override failedSignIn(request: EdgeRequest): Promise<FailedSignIn> {
    return this.failedOnBody(request, 'otpVerify', 'phone', async (auth, body, options) => {
      const user = await auth.findUserByPhone(allowedPhone(body.phone, options.phone));
      return user?.phoneVerified ? user : null;
    });
  }
}
