import { type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ARRAF_AUTH_OPTIONS } from '../arraf-auth.constants.js';
import { ArrafAuthException } from '../errors/arraf-auth.exception.js';
import type { ResolvedArrafAuthOptions } from '../options/arraf-auth-options.interface.js';
import { ALLOW_WITHOUT_TWO_FACTOR_KEY } from './two-factor.constants.js';
import { TwoFactorService } from './two-factor.service.js';

/**
 * Mandatory enrolment (`twoFactor.required`): `SessionGuard` asks it about every signed-in request;
 * a user without a second factor gets 403 `TWO_FACTOR_ENROLMENT_REQUIRED` except on routes marked
 * `@AllowWithoutTwoFactor()` (enrolment). Costs nothing while the option is off.
 */
@Injectable()
export class TwoFactorEnrolmentCheck {
  constructor(
    @Inject(ARRAF_AUTH_OPTIONS) private readonly options: ResolvedArrafAuthOptions,
    private readonly reflector: Reflector,
    private readonly twoFactor: TwoFactorService,
  ) {}

  async assertEnrolled(context: ExecutionContext, userId: string): Promise<void> {
    if (!this.options.twoFactor.required) return;
    const allowed = this.reflector.getAllAndOverride<boolean>(ALLOW_WITHOUT_TWO_FACTOR_KEY, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (allowed === true || (await this.twoFactor.hasSecondFactor(userId))) return;
    throw new ArrafAuthException('TWO_FACTOR_ENROLMENT_REQUIRED');
  }
}
