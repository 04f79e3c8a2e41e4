import type { ArrafAuthSessionCacheOptions } from '../session/session-cache.options.js';

/** How the session cookie is written. */
export interface ArrafAuthCookieOptions {
  /** Send the cookie over HTTPS only. Turn off only for plain-HTTP development. @default true */
  secure?: boolean;
  /** Hide the cookie from JavaScript. @default true */
  httpOnly?: boolean;
  /** Cross-site policy. `'none'` requires `secure`. @default 'lax' */
  sameSite?: 'strict' | 'lax' | 'none';
  /** Share the cookie with subdomains. Setting it disables the `__Host-` prefix. @default undefined */
  domain?: string;
  /** Cookie path. @default '/' */
  path?: string;
  /**
   * Name the cookie `__Host-<cookieName>` when it is `secure`, has no `domain` and path `/`, so
   * subdomains cannot plant or overwrite it. @default true
   */
  hostPrefix?: boolean;
}

/** Session settings. Durations are seconds or strings such as `'15m'`, `'12h'`, `'30d'`. */
export interface ArrafAuthSessionOptions {
  /**
   * `'jwt'`: the cookie holds a signed JWT naming the session; `'database'`: the cookie holds the
   * random token. Both keep a session row, so revocation works in both. @default 'jwt'
   */
  strategy?: 'jwt' | 'database';
  /** Absolute lifetime of a session (extended by sliding renewal). @default '30d' */
  expiresIn?: string | number;
  /** A session older than this since its last renewal is extended and its cookie re-issued. @default '1d' */
  updateAge?: string | number;
  /** Cookie name (without the `__Host-` prefix). @default 'auth_session' */
  cookieName?: string;
  /** Cookie attributes. */
  cookieOptions?: ArrafAuthCookieOptions;
  /** Also accept `Authorization: Bearer <token>` and return the token in responses. @default false */
  bearer?: boolean;
  /** End a session unused for this long. @default undefined (no idle timeout) */
  idleTimeout?: string | number;
  /** Sensitive routes need a sign-in at most this old, else 403 `SESSION_NOT_FRESH`. @default '1d' */
  freshAge?: string | number;
  /**
   * Hard ceiling on a session's life from sign-in: sliding renewal never extends a session past
   * `createdAt + absoluteTimeout`, after which the user signs in again. Must be at least `expiresIn`.
   * @default '90d'
   */
  absoluteTimeout?: string | number;
  /**
   * Cache validated sessions in memory (`true` for the defaults), so a guarded request needs no
   * database read; every revocation reaches every instance through Redis or PostgreSQL, and the
   * cache switches itself off while that channel is down. @default false
   */
  cache?: boolean | ArrafAuthSessionCacheOptions;
}
