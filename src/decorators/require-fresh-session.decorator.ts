import { SetMetadata } from '@nestjs/common';
import { REQUIRE_FRESH_KEY } from '../arraf-auth.constants.js';

/**
 * Requires a sign-in no older than `session.freshAge` on a route guarded by `SessionGuard`;
 * an older one gets 403 `SESSION_NOT_FRESH`.
 *
 * @example @RequireFreshSession() @Patch('phone') changePhone() { ... }
 */
export const RequireFreshSession = (): MethodDecorator & ClassDecorator => SetMetadata(REQUIRE_FRESH_KEY, true);
