import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { User } from '../entities/user.entity.js';

/**
 * The signed-in `User` set by `SessionGuard`, or one of its fields.
 *
 * @example profile(@CurrentUser() user: User, @CurrentUser('id') userId: string) { ... }
 */
export const CurrentUser = createParamDecorator((field: keyof User | undefined, context: ExecutionContext) => {
  const user = context.switchToHttp().getRequest<{ user?: User }>().user;
  return field ? user?.[field] : user;
});
