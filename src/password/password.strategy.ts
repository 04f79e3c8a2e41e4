import { type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import CustomStrategy from 'passport-custom';
import { normalizeEmail } from '../auth/email.util.js';
import { type FailedSignIn, StrategyAuthGuard } from '../auth/strategy-auth.guard.js';
import { type EdgeRequest, httpOf } from '../controllers/edge-request.js';
import type { User } from '../entities/user.entity.js';
import { ArrafAuthException } from '../errors/arraf-auth.exception.js';
import { BodyReader } from '../schemas/body.guard.js';
import { PasswordService } from './password.service.js';

/** Name of the email + password Passport strategy, for `AuthGuard(PASSWORD_STRATEGY_NAME)`. */
export const PASSWORD_STRATEGY_NAME = 'arraf-password';

/**
 * Passport strategy `'arraf-password'`: reads `{ method: 'email', email, password }` from the JSON
 * body (strictly: anything else is 400 `INVALID_INPUT`) and returns the `User`, or fails with 401
 * `INVALID_CREDENTIALS`, the same for an unknown email and a wrong password. Each account has
 * `rateLimit.limits['sign-in:account']` attempts per window (counted by PasswordService).
 */
@Injectable()
export class PasswordStrategy extends PassportStrategy(CustomStrategy, PASSWORD_STRATEGY_NAME) {
  constructor(
    protected readonly passwords: PasswordService,
    @Inject(BodyReader) protected readonly bodies: BodyReader,
  ) {
    super();
  }

  async validate(request: EdgeRequest): Promise<User> {
    const input = this.bodies.read(request, 'signIn');
    if (input.method !== 'email') throw new ArrafAuthException('INVALID_INPUT', { field: 'method' });
    return this.passwords.authenticate(input.email, input.password);
  }
}

/**
 * Runs {@link PasswordStrategy} and answers its errors in the library's shape; no user is 401
 * `INVALID_CREDENTIALS`.
 *
 * @example @Post('login') @UseGuards(PasswordAuthGuard) login(@CurrentUser() user: User) {}
 */
@Injectable()
export class PasswordAuthGuard extends StrategyAuthGuard {
  protected readonly strategyType = PasswordStrategy;
  protected readonly failureCode = 'INVALID_CREDENTIALS';

  /** `password`, on the account of the email when there is one. */
  protected override failedSignIn(request: EdgeRequest): Promise<FailedSignIn> {
    return this.failedOnBody(request, 'signIn', 'password', async (auth, input) =>
      input.method === 'email' ? auth.findUserByEmail(normalizeEmail(input.email)) : null,
    );
  }
}

/**
 * The guard of `POST sign-in`, which serves two flows: `method: 'email'` goes through
 * {@link PasswordAuthGuard}; `method: 'phone'` passes on to the route, which sends the code.
 * The body is read once, by the route's `@RequestBody('signIn')`.
 */
@Injectable()
export class SignInGuard extends PasswordAuthGuard {
  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const bodies = this.moduleRef.get(BodyReader, { strict: false });
    const input = bodies.read(httpOf(context).request, 'signIn');
    return input.method === 'phone' ? true : super.canActivate(context);
  }
}
