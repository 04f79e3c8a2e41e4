import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { getAuthHolder } from '../context/transport-context.js';
import type { User } from '../entities/user.entity.js';

/**
 * The signed-in `User` set by `SessionGuard`, or one of its fields, in a controller, a resolver or
 * a gateway handler. Any field name is accepted, so the columns of an extended `User` work too.
 *
 * @example profile(@CurrentUser() user: User, @CurrentUser('id') userId: string, @CurrentUser('locale') locale: string) { ... }
 */
export const CurrentUser: (field?: (keyof User & string) | (string & {})) => ParameterDecorator = createParamDecorator(
  (field: string | undefined, context: ExecutionContext) => {
    const user = getAuthHolder(context)?.user as Record<string, unknown> | undefined;
    return field ? user?.[field] : user;
  },
);
