import { type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ARRAF_AUTH_OPTIONS } from '../arraf-auth.constants.js';
import { RouteFlag } from '../context/route-flag.js';
import { ArrafAuthException } from '../errors/arraf-auth.exception.js';
import type { ResolvedArrafAuthOptions } from '../options/arraf-auth-options.interface.js';
import { ALLOW_WITHOUT_TWO_FACTOR_KEY } from './two-factor.constants.js';
import { TwoFactorService } from './two-factor.service.js';

/**
 * Mandatory enrolment (`twoFactor.required`): `SessionGuard` asks it about every signed-in request;
 * a user without a second factor gets 403 `TWO_FACTOR_ENROLMENT_REQUIRED` except on routes marked
 * `@AllowWithoutTwoFactor()` (enrolment). Costs nothing while the option is off, and no query when
 * the session lookup already answered whether the user has a second factor (the default store does).
 */
@Injectable()
export class TwoFactorEnrolmentCheck {
  private readonly allowedRoutes: RouteFlag;

  constructor(
    @Inject(ARRAF_AUTH_OPTIONS) private readonly options: ResolvedArrafAuthOptions,
    reflector: Reflector,
    private readonly twoFactor: TwoFactorService,
  ) {
    this.allowedRoutes = new RouteFlag(reflector, ALLOW_WITHOUT_TWO_FACTOR_KEY);
  }

  /**
   * Throws `TWO_FACTOR_ENROLMENT_REQUIRED` when the user must enrol first. `secondFactor` is what
   * the session lookup said; only when it is unknown is the database asked (then a promise is returned).
   */
  assertEnrolled(context: ExecutionContext, userId: string, secondFactor?: boolean): Promise<void> | undefined {
    if (!this.options.twoFactor.required || this.allowedRoutes.of(context)) return undefined;
    if (secondFactor === undefined) return this.twoFactor.hasSecondFactor(userId).then(refuseWithout);
    refuseWithout(secondFactor);
    return undefined;
  }
}

function refuseWithout(secondFactor: boolean): void {
  if (!secondFactor) throw new ArrafAuthException('TWO_FACTOR_ENROLMENT_REQUIRED');
}
