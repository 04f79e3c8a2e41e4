import type { ResolvedArrafAuthOptions } from '../options/arraf-auth-options.interface.js';

type CookieSettings = ResolvedArrafAuthOptions['session'];

/**
 * Reads one cookie from a `Cookie` header without parsing the others (the guard's hot path).
 * Returns `undefined` when absent, empty or not decodable.
 */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  let from = 0;
  while (from < header.length) {
    const at = header.indexOf(name, from);
    if (at === -1) return undefined;
    const before = at === 0 ? ';' : header[at - 1];
    const afterName = at + name.length;
    // A match must be a whole cookie name: preceded by the start or `;`/space and followed by `=`.
    if ((before === ';' || before === ' ') && header[afterName] === '=') {
      const end = header.indexOf(';', afterName);
      const raw = header.slice(afterName + 1, end === -1 ? undefined : end).trim();
      if (raw === '') return undefined;
      if (!raw.includes('%')) return raw;
      try {
        return decodeURIComponent(raw);
      } catch {
        return undefined;
      }
    }
    from = afterName;
  }
  return undefined;
}

/** Serialises the session cookie with the configured attributes. `maxAge` in seconds; 0 clears it. */
export function serializeSessionCookie(settings: CookieSettings, value: string, maxAge: number): string {
  const { cookie } = settings;
  let out = `${settings.cookieName}=${value}; Path=${cookie.path}; Max-Age=${Math.max(0, Math.floor(maxAge))}`;
  if (maxAge <= 0) out += '; Expires=Thu, 01 Jan 1970 00:00:00 GMT';
  if (cookie.domain) out += `; Domain=${cookie.domain}`;
  if (cookie.httpOnly) out += '; HttpOnly';
  if (cookie.secure) out += '; Secure';
  out += `; SameSite=${cookie.sameSite[0].toUpperCase()}${cookie.sameSite.slice(1)}`;
  return out;
}

/** Appends a `Set-Cookie` header on an Express response or a Fastify reply. */
export function appendSetCookie(response: unknown, value: string): void {
  const res = response as {
    append?: (name: string, value: string) => void;
    header?: (name: string, value: string) => void;
    raw?: unknown;
  };
  if (res.raw !== undefined && typeof res.header === 'function') {
    res.header('set-cookie', value); // Fastify collects repeated set-cookie headers into a list.
  } else if (typeof res.append === 'function') {
    res.append('Set-Cookie', value);
  } else {
    throw new Error('ArrafAuth: unsupported HTTP platform response object');
  }
}

/** The minimal request shape shared by Express and Fastify that the library reads. */
export interface HttpRequestLike {
  method: string;
  headers: Record<string, string | string[] | undefined>;
  ip?: string;
}

/**
 * The session credential of a request: the session cookie, or, when `bearer` is on and there is
 * no cookie, an `Authorization: Bearer` token. `fromCookie` tells the origin check to apply.
 */
export function readSessionCredential(
  request: HttpRequestLike,
  settings: CookieSettings,
): { credential: string | undefined; fromCookie: boolean } {
  const cookie = readCookie(request.headers.cookie as string | undefined, settings.cookieName);
  if (cookie !== undefined) return { credential: cookie, fromCookie: true };
  if (settings.bearer) {
    const authorization = request.headers.authorization;
    if (typeof authorization === 'string' && authorization.length > 7 && /^bearer /i.test(authorization)) {
      return { credential: authorization.slice(7).trim(), fromCookie: false };
    }
  }
  return { credential: undefined, fromCookie: false };
}
