import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { REQUEST_SESSION_KEY } from '../arraf-auth.constants.js';
import { getAuthHolder } from '../context/transport-context.js';
import type { Session } from '../entities/session.entity.js';

/**
 * The current `Session` set by `SessionGuard`, in a controller, a resolver or a gateway handler.
 *
 * @example devices(@CurrentSession() session: Session) { ... }
 */
export const CurrentSession = createParamDecorator(
  (_data: unknown, context: ExecutionContext): Session | undefined =>
    getAuthHolder(context)?.[REQUEST_SESSION_KEY] as Session | undefined,
);
