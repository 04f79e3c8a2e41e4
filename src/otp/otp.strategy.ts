import { type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { AuthGuard, PassportStrategy } from '@nestjs/passport';
import CustomStrategy from 'passport-custom';
import type { EntityManager } from 'typeorm';
import { ARRAF_AUTH_OPTIONS } from '../arraf-auth.constants.js';
import { AuthService } from '../auth/auth.service.js';
import type { User } from '../entities/user.entity.js';
import { ArrafAuthException } from '../errors/arraf-auth.exception.js';
import type { ResolvedArrafAuthOptions } from '../options/arraf-auth-options.interface.js';
import type { HttpRequestLike } from '../session/cookie.util.js';
import { isTrustedOrigin } from '../session/origin.util.js';
import { OTP_STRATEGY_NAME, REQUEST_OTP_SIGN_IN_KEY } from './otp.constants.js';
import { OtpService } from './otp.service.js';
import { parseOtpVerifyBody } from './otp.validation.js';

/** What a successful phone + code sign-in leaves on the request under `REQUEST_OTP_SIGN_IN_KEY`. */
export interface OtpSignIn {
  user: User;
  /** The verified number, E.164. */
  phone: string;
  /** Whether this sign-in created the user. */
  isNewUser: boolean;
}

type OtpRequest = HttpRequestLike & { body?: unknown } & Record<string | symbol, unknown>;

/** The OtpStrategy of the application handling the request, set by {@link OtpAuthGuard}. */
const APP_STRATEGY = Symbol('arraf-auth:otp-strategy');

/**
 * Passport strategy `'arraf-otp'`: reads `{ method: 'phone', phone, otp, name? }` from the body
 * (strictly: anything else is 400 `INVALID_INPUT`), verifies the sign-in code and finds or creates
 * the user. `request.user` becomes the `User`; `request[REQUEST_OTP_SIGN_IN_KEY]` the
 * {@link OtpSignIn}. Only an account whose phone is verified is ever selected by the number. A
 * browser request from an untrusted `Origin` is refused (403 `INVALID_ORIGIN`: login CSRF).
 */
@Injectable()
export class OtpStrategy extends PassportStrategy(CustomStrategy, OTP_STRATEGY_NAME) {
  constructor(
    protected readonly otp: OtpService,
    protected readonly auth: AuthService,
    @Inject(ARRAF_AUTH_OPTIONS) protected readonly options: ResolvedArrafAuthOptions,
  ) {
    super();
  }

  async validate(request: OtpRequest): Promise<User> {
    // Passport keeps one strategy per name for the whole process; when several Nest applications
    // live in it (tests, several apps in one server), the guard names the one of this request's app.
    const owner = request[APP_STRATEGY];
    if (owner instanceof OtpStrategy && owner !== this) return owner.validate(request);

    // Login CSRF: another site must not sign the browser into an account of its choosing.
    if (!isTrustedOrigin(request, this.options.trustedOrigins)) throw new ArrafAuthException('INVALID_ORIGIN');
    const body = parseOtpVerifyBody(request.body);
    await this.otp.limitClient('verify', request.ip);
    const phone = await this.otp.verify(body.phone, 'sign-in', body.otp, { ip: request.ip });
    const { user, isNewUser } = await this.findOrCreateUser(phone, body.name);
    const signIn: OtpSignIn = { user, phone, isNewUser };
    request[REQUEST_OTP_SIGN_IN_KEY] = signIn;
    return user;
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
 * `AuthGuard('arraf-otp')`: runs {@link OtpStrategy} and answers its errors in the library's
 * shape (`OTP_INVALID`, `OTP_EXPIRED`, `OTP_TOO_MANY_ATTEMPTS` with Retry-After, `INVALID_INPUT`).
 *
 * @example @Post('phone/verify') @UseGuards(OtpAuthGuard) signIn(@CurrentUser() user: User) {}
 */
@Injectable()
export class OtpAuthGuard extends AuthGuard(OTP_STRATEGY_NAME) {
  constructor(private readonly moduleRef: ModuleRef) {
    super();
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = this.getRequest(context) as OtpRequest;
    request[APP_STRATEGY] = this.moduleRef.get(OtpStrategy, { strict: false });
    return (await super.canActivate(context)) as boolean;
  }

  override handleRequest<TUser = User>(error: unknown, user: TUser | false): TUser {
    if (error) throw error;
    if (!user) throw new ArrafAuthException('UNAUTHENTICATED');
    return user;
  }
}
