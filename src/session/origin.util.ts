import type { RequestHeaders } from './session-cookie.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The parts of a request the origin check reads. */
export interface OriginCheckedRequest {
  method?: string;
  headers: RequestHeaders;
}

/** Whether the request method can change state (and so needs the origin check). */
export function isStateChanging(method: string): boolean {
  return !SAFE_METHODS.has(method.toUpperCase());
}

function header(request: OriginCheckedRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * CSRF defence for state-changing requests: the `Origin` (or, without it, the `Referer`'s origin)
 * must be one of `trusted` (appUrl and trustedOrigins); with none configured, it must be the host
 * the request was sent to. A request with neither header passes unless `requireHeader` is set:
 * non-browser clients send neither, but a browser sends `Origin` on every cross-site POST, so a
 * cookie-carrying request without one is refused where the caller asks for that.
 */
export function isTrustedOrigin(
  request: OriginCheckedRequest,
  trusted: readonly string[],
  { requireHeader = false }: { requireHeader?: boolean } = {},
): boolean {
  let origin = header(request, 'origin');
  if (origin === undefined) {
    const referer = header(request, 'referer');
    if (referer === undefined) return !requireHeader;
    try {
      origin = new URL(referer).origin;
    } catch {
      return false;
    }
  }
  if (origin === 'null' || origin === '') return false;
  if (trusted.length > 0) return trusted.includes(origin);
  const host = header(request, 'host');
  if (!host) return false;
  try {
    return new URL(origin).host === host.toLowerCase();
  } catch {
    return false;
  }
}
