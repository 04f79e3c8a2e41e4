import type { HttpRequestLike } from './cookie.util.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Whether the request method can change state (and so needs the origin check). */
export function isStateChanging(method: string): boolean {
  return !SAFE_METHODS.has(method.toUpperCase());
}

function header(request: HttpRequestLike, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * CSRF defence for cookie-authenticated, state-changing requests: the `Origin` (or, without it,
 * the `Referer`'s origin) must be one of `trusted` (appUrl and trustedOrigins); with none
 * configured, it must be the host the request was sent to. Requests with neither header come from
 * non-browser clients, which carry no ambient cookies, and pass.
 */
export function isTrustedOrigin(request: HttpRequestLike, trusted: readonly string[]): boolean {
  let origin = header(request, 'origin');
  if (origin === undefined) {
    const referer = header(request, 'referer');
    if (referer === undefined) return true;
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
