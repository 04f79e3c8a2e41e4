import type { ResolvedArrafAuthOptions } from '../options/arraf-auth-options.interface.js';

/** Lifetime of a sign-in attempt: the user has ten minutes at the provider. */
export const OAUTH_CHECK_MAX_AGE = 600;

const BASE_NAME = 'arraf_oauth';

/**
 * What the check cookie carries between `GET sign-in/:provider` and `GET callback/:provider`, as a
 * JWT signed with a key derived from the secret (and so never valid as a session token).
 */
export interface OAuthCheckPayload {
  /** Provider id: a check made for one provider is refused at another's callback. */
  pid: string;
  /** `state` (256 bits). */
  st: string;
  /** PKCE `code_verifier` (256 bits, 43 characters). */
  cv: string;
  /** OIDC `nonce` (256 bits). */
  nn: string;
  /** Where to go afterwards, already checked against `trustedOrigins`. */
  rt: string;
  /** Present on a link (`GET link/:provider`): the signed-in user the identity is linked to. */
  lk?: string;
}

/** The check cookie's name: `__Host-` prefixed exactly when the session cookie is. */
export function checkCookieName(session: ResolvedArrafAuthOptions['session']): string {
  return session.cookieName.startsWith('__Host-') ? `__Host-${BASE_NAME}` : BASE_NAME;
}

/**
 * Serialises the check cookie: httpOnly, `SameSite=Lax` (it must come back on the provider's
 * top-level redirect, which `Strict` would drop), `Secure` as the session cookie, path `/`.
 * `maxAge` 0 clears it.
 */
export function serializeCheckCookie(
  session: ResolvedArrafAuthOptions['session'],
  value: string,
  maxAge: number,
): string {
  let out = `${checkCookieName(session)}=${value}; Path=/; Max-Age=${maxAge}`;
  if (maxAge <= 0) out += '; Expires=Thu, 01 Jan 1970 00:00:00 GMT';
  out += '; HttpOnly';
  if (session.cookie.secure) out += '; Secure';
  return `${out}; SameSite=Lax`;
}
