import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { REQUEST_SESSION_KEY } from '../arraf-auth.constants.js';
import type { Session } from '../entities/session.entity.js';

/**
 * The current `Session` set by `SessionGuard`.
 *
 * @example devices(@CurrentSession() session: Session) { ... }
 */
export const CurrentSession = createParamDecorator(
  (_data: unknown, context: ExecutionContext): Session | undefined =>
    context.switchToHttp().getRequest<Record<string, Session | undefined>>()[REQUEST_SESSION_KEY],
);
