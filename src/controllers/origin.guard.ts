import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { ARRAF_AUTH_OPTIONS } from '../arraf-auth.constants.js';
import { ArrafAuthException } from '../errors/arraf-auth.exception.js';
import type { ResolvedArrafAuthOptions } from '../options/arraf-auth-options.interface.js';
import { isStateChanging, isTrustedOrigin } from '../session/origin.util.js';
import { SessionCookie } from '../session/session-cookie.js';
import { httpOf } from './edge-request.js';

/** Set on a request once its origin was checked, so a second check (a strategy guard) is skipped. */
const ORIGIN_CHECKED = Symbol('arraf-auth:origin-checked');

/**
 * The origin check of every state-changing route of the library (login CSRF, cross-site sign-out,
 * SMS triggered from another site): an `Origin` or `Referer` that is not `appUrl`, a trusted
 * origin or (with none configured) the request's own host is 403 `INVALID_ORIGIN`. A request
 * carrying the session cookie with neither header is refused too, unless `allowMissingOrigin`.
 * Safe methods (GET, HEAD, OPTIONS) and bearer-authenticated requests pass. Runs before any body is
 * read or any limit is spent.
 */
@Injectable()
export class OriginGuard implements CanActivate {
  constructor(
    protected readonly cookie: SessionCookie,
    @Inject(ARRAF_AUTH_OPTIONS) protected readonly options: ResolvedArrafAuthOptions,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const { request } = httpOf(context);
    if (request[ORIGIN_CHECKED] === true || !isStateChanging(request.method)) return true;
    const credential = this.cookie.read(request.headers);
    // A bearer token is never attached by a browser on its own: such a request cannot be forged.
    if (credential?.source === 'bearer') return true;
    const requireHeader = credential !== undefined && !this.options.allowMissingOrigin;
    if (!isTrustedOrigin(request, this.options.trustedOrigins, { requireHeader })) this.throwInvalidOrigin();
    request[ORIGIN_CHECKED] = true;
    return true;
  }

  /** Throws the 403. */
  protected throwInvalidOrigin(): never {
    throw new ArrafAuthException('INVALID_ORIGIN');
  }
}
