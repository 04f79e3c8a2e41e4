import { Inject, Injectable } from '@nestjs/common';
import { ARRAF_AUTH_OPTIONS } from '../arraf-auth.constants.js';
import type { ResolvedArrafAuthOptions } from '../options/arraf-auth-options.interface.js';
import { appendHeader, readCookie, type RequestHeaders } from '../session/session-cookie.js';
import { PENDING_TTL_SECONDS } from './two-factor.constants.js';

const BASE_NAME = 'arraf_2fa_pending';

/**
 * The pending-sign-in cookie: its own name (`__Host-` prefixed exactly when the session cookie is),
 * httpOnly, `SameSite=Lax` (it is set on an OAuth callback's redirect too), five minutes. It only
 * ever reaches `POST two-factor/verify`; the session guard does not read it.
 */
@Injectable()
export class TwoFactorPendingCookie {
  readonly name: string;
  private readonly secure: boolean;

  constructor(@Inject(ARRAF_AUTH_OPTIONS) options: ResolvedArrafAuthOptions) {
    this.name = options.session.cookieName.startsWith('__Host-') ? `__Host-${BASE_NAME}` : BASE_NAME;
    this.secure = options.session.cookie.secure;
  }

  read(headers: RequestHeaders | undefined): string | undefined {
    const header = headers?.cookie;
    return readCookie(Array.isArray(header) ? header[0] : header, this.name);
  }

  write(response: unknown, token: string): void {
    appendHeader(response, 'Set-Cookie', this.serialize(token, PENDING_TTL_SECONDS));
  }

  clear(response: unknown): void {
    appendHeader(response, 'Set-Cookie', this.serialize('', 0));
  }

  private serialize(value: string, maxAge: number): string {
    let out = `${this.name}=${value}; Path=/; Max-Age=${maxAge}`;
    if (maxAge <= 0) out += '; Expires=Thu, 01 Jan 1970 00:00:00 GMT';
    out += '; HttpOnly';
    if (this.secure) out += '; Secure';
    return `${out}; SameSite=Lax`;
  }
}
