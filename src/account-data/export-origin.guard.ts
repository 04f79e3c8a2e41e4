import { type ExecutionContext, Injectable } from '@nestjs/common';
import { httpOf } from '../controllers/edge-request.js';
import { OriginGuard } from '../controllers/origin.guard.js';
import { isTrustedOrigin } from '../session/origin.util.js';

/**
 * The origin check of `GET account/export`: a GET, but one that records `account.exported` and
 * hands out everything stored about the user, so another site must not set it off (a cross-site
 * link or `fetch` with the cookie). An `Origin` or `Referer` that `OriginGuard` would refuse, or
 * `Sec-Fetch-Site: cross-site`, is 403 `INVALID_ORIGIN`; a request with none of them (an address
 * typed in, a non-browser client) and a bearer request pass.
 */
@Injectable()
export class ExportOriginGuard extends OriginGuard {
  override canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const { request } = httpOf(context);
    if (this.cookie.read(request.headers)?.source === 'bearer') return true;
    const site = request.headers['sec-fetch-site'];
    const crossSite = (Array.isArray(site) ? site[0] : site)?.toLowerCase() === 'cross-site';
    if (crossSite || !isTrustedOrigin(request, this.options.trustedOrigins)) this.throwInvalidOrigin();
    return true;
  }
}
