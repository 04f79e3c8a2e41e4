import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { REQUEST_SESSION_KEY } from '../arraf-auth.constants.js';
import { getTransportContext } from '../context/transport-context.js';
import type { Session } from '../entities/session.entity.js';
import { ArrafAuthException } from '../errors/arraf-auth.exception.js';
import { toWsException } from '../errors/transport-errors.js';
import { REQUIRE_TWO_FACTOR_KEY } from './two-factor.constants.js';
import { TwoFactorService } from './two-factor.service.js';

/**
 * The step-up check of `@RequireTwoFactor()`, after `SessionGuard`: the session must have passed a
 * second factor within `twoFactor.freshAge`. Reads the session `SessionGuard` left on the request or
 * socket through the transport-neutral context, so it works on HTTP, GraphQL resolvers (the refusal
 * in `errors[i].extensions`) and WebSocket gateways (the `exception` event).
 */
@Injectable()
export class TwoFactorGuard implements CanActivate {
  constructor(
    protected readonly reflector: Reflector,
    protected readonly twoFactor: TwoFactorService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const required = this.reflector.getAllAndOverride<boolean>(REQUIRE_TWO_FACTOR_KEY, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (required !== true) return true;
    const transport = getTransportContext(context);
    const session = transport?.holder[REQUEST_SESSION_KEY] as Session | undefined;
    const error = session
      ? await this.twoFactor
          .hasFreshProof(session.id)
          .then((fresh) => (fresh ? undefined : new ArrafAuthException('TWO_FACTOR_REQUIRED')), unavailable)
      : new ArrafAuthException('UNAUTHENTICATED');
    if (!error) return true;
    throw transport?.type === 'ws' ? await toWsException(error) : error;
  }
}

/** A storage failure is 503 `SERVICE_UNAVAILABLE` on every transport, like the session check: never a 500. */
function unavailable(error: unknown): ArrafAuthException {
  return error instanceof ArrafAuthException ? error : new ArrafAuthException('SERVICE_UNAVAILABLE', { cause: error });
}
