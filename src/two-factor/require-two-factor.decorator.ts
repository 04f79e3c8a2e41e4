import { applyDecorators, SetMetadata, UseGuards } from '@nestjs/common';
import { SessionGuard } from '../session/session.guard.js';
import { ALLOW_WITHOUT_TWO_FACTOR_KEY, REQUIRE_TWO_FACTOR_KEY } from './two-factor.constants.js';
import { TwoFactorGuard } from './two-factor.guard.js';

/**
 * Step-up: the route needs a session that passed a second factor within `twoFactor.freshAge`;
 * otherwise 403 `TWO_FACTOR_REQUIRED` (the client asks for a code and sends it to
 * `POST /auth/two-factor/verify`). Applies `SessionGuard` itself.
 *
 * @example @RequireTwoFactor() @Post('transfers') transfer() { ... }
 */
export function RequireTwoFactor(): MethodDecorator & ClassDecorator {
  return applyDecorators(SetMetadata(REQUIRE_TWO_FACTOR_KEY, true), UseGuards(SessionGuard, TwoFactorGuard));
}

/**
 * Keeps a route reachable for a signed-in user who has not enrolled a second factor yet while
 * `twoFactor.required` is on (the enrolment routes use it).
 *
 * @example @AllowWithoutTwoFactor() @Get('onboarding') onboarding() { ... }
 */
export function AllowWithoutTwoFactor(): MethodDecorator & ClassDecorator {
  return SetMetadata(ALLOW_WITHOUT_TWO_FACTOR_KEY, true);
}
