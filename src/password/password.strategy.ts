import { type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { AuthGuard, PassportStrategy } from '@nestjs/passport';
import passport from 'passport';
import CustomStrategy from 'passport-custom';
import { ARRAF_AUTH_OPTIONS } from '../arraf-auth.constants.js';
import type { User } from '../entities/user.entity.js';
import { ArrafAuthException } from '../errors/arraf-auth.exception.js';
import type { ResolvedArrafAuthOptions } from '../options/arraf-auth-options.interface.js';
import { RateLimiter } from '../rate-limit/rate-limiter.js';
import type { HttpRequestLike } from '../session/cookie.util.js';
import { isTrustedOrigin } from '../session/origin.util.js';
import { jsonBody, readMethod, readSignIn } from './password-input.js';
import { PasswordService } from './password.service.js';

/** Name of the email + password Passport strategy, for `AuthGuard(PASSWORD_STRATEGY_NAME)`. */
export const PASSWORD_STRATEGY_NAME = 'arraf-password';

/**
 * Passport strategy `'arraf-password'`: reads `{ method: 'email', email, password }` from the JSON
 * body (strictly: anything else is 400 `INVALID_INPUT`) and returns the `User`, or fails with 401
 * `INVALID_CREDENTIALS`, the same for an unknown email and a wrong password. A browser request
 * from an untrusted `Origin` is refused (403 `INVALID_ORIGIN`: login CSRF); each client address
 * has `rateLimit.limits['sign-in:ip']` attempts per window, each account `['sign-in:account']`.
 */
@Injectable()
export class PasswordStrategy extends PassportStrategy(CustomStrategy, PASSWORD_STRATEGY_NAME) {
  constructor(
    protected readonly passwords: PasswordService,
    protected readonly limiter: RateLimiter,
    @Inject(ARRAF_AUTH_OPTIONS) protected readonly options: ResolvedArrafAuthOptions,
  ) {
    super();
  }

  async validate(request: HttpRequestLike & { body?: unknown }): Promise<User> {
    if (!isTrustedOrigin(request, this.options.trustedOrigins)) throw new ArrafAuthException('INVALID_ORIGIN');
    const input = readSignIn(request.body, this.passwords.maxPasswordBytes);
    if (input.method !== 'email') throw new ArrafAuthException('INVALID_INPUT');
    await this.limiter.consumeClient('sign-in:ip', request.ip);
    return this.passwords.authenticate(input.email, input.password);
  }
}

/**
 * `AuthGuard('arraf-password')`: runs {@link PasswordStrategy} and answers its errors in the
 * library's shape. It authenticates with the strategy instance of its own application (the
 * registered provider, so `overrideProvider(PasswordStrategy)` works) through a private Passport
 * registry: Passport's global one keeps a single strategy per name for the whole process, which is
 * wrong as soon as two Nest applications share it (tests, several apps in one server).
 *
 * @example @Post('login') @UseGuards(PasswordAuthGuard) login(@CurrentUser() user: User) {}
 */
@Injectable()
export class PasswordAuthGuard extends AuthGuard(PASSWORD_STRATEGY_NAME) {
  private registry?: Promise<passport.Authenticator>;

  // An explicit token: the AuthGuard mixin declares its own (optional) constructor parameter.
  constructor(@Inject(ModuleRef) private readonly moduleRef: ModuleRef) {
    super();
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = this.getRequest(context);
    const response = context.switchToHttp().getResponse();
    const registry = await this.passport();
    request.user = await new Promise<User>((resolve, reject) => {
      const callback = (error: unknown, user: User | false, info: unknown, status: unknown) => {
        try {
          resolve(this.handleRequest(error, user, info, context, status));
        } catch (thrown) {
          reject(thrown);
        }
      };
      registry.authenticate(PASSWORD_STRATEGY_NAME, { session: false }, callback)(
        request,
        response,
        (error?: unknown) => (error ? reject(error) : reject(new ArrafAuthException('INVALID_CREDENTIALS'))),
      );
    });
    return true;
  }

  /** Rethrows the strategy's error as is; no user is 401 `INVALID_CREDENTIALS`. */
  override handleRequest<TUser = User>(error: unknown, user: TUser | false, ..._rest: unknown[]): TUser {
    if (error) throw error;
    if (!user) throw new ArrafAuthException('INVALID_CREDENTIALS');
    return user;
  }

  /**
   * A Passport registry holding this application's PasswordStrategy: the registered provider, or,
   * when the application's module does not list it, one built by the injector.
   */
  private passport(): Promise<passport.Authenticator> {
    this.registry ??= (async () => {
      let strategy: PasswordStrategy;
      try {
        strategy = this.moduleRef.get(PasswordStrategy, { strict: false });
      } catch {
        strategy = await this.moduleRef.create(PasswordStrategy);
      }
      const registry = new passport.Passport();
      registry.use(PASSWORD_STRATEGY_NAME, strategy);
      return registry;
    })().catch((error: unknown) => {
      this.registry = undefined; // let the next request try again
      throw error;
    });
    return this.registry;
  }
}

/**
 * The guard of `POST sign-in`, which serves two flows: `method: 'email'` goes through
 * {@link PasswordAuthGuard}; `method: 'phone'` passes on to the route, which sends the code.
 * Any other body is 400 `INVALID_INPUT`.
 */
@Injectable()
export class SignInGuard extends PasswordAuthGuard {
  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const method = readMethod(jsonBody(this.getRequest(context)));
    return method === 'phone' ? true : super.canActivate(context);
  }
}
