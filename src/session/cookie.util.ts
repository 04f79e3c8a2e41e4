/**
 * Retired: the session cookie belongs to `SessionCookie` (`session-cookie.ts`). These names stay
 * as thin re-exports until the files that still import them move over; new code must not use them.
 */
import { appendHeader, readSessionCredential as readCredential, type RequestHeaders } from './session-cookie.js';
import type { ResolvedArrafAuthOptions } from '../options/arraf-auth-options.interface.js';

export { type HttpRequestLike, readCookie, serializeSessionCookie } from './session-cookie.js';

/** @deprecated `SessionCookie.write` / `appendHeader(response, 'Set-Cookie', value)`. */
export function appendSetCookie(response: unknown, value: string): void {
  appendHeader(response, 'Set-Cookie', value);
}

/** @deprecated `SessionCookie.read(request.headers)`. */
export function readSessionCredential(
  request: { headers: RequestHeaders },
  settings: ResolvedArrafAuthOptions['session'],
): { credential: string | undefined; fromCookie: boolean } {
  const credential = readCredential(request.headers, settings);
  return { credential: credential?.token, fromCookie: credential?.source === 'cookie' };
}
