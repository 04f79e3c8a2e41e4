import { Inject, Injectable } from '@nestjs/common';
import { ARRAF_AUTH_OPTIONS } from '../arraf-auth.constants.js';
import type { ResolvedArrafAuthOptions } from '../options/arraf-auth-options.interface.js';

/** Response header that carries a renewed session token to clients that sent `Authorization: Bearer`. */
export const SESSION_TOKEN_HEADER = 'Set-Auth-Token';

/** Where a request's session credential came from. Cookie requests get the origin check; bearer ones do not. */
export type CredentialSource = 'cookie' | 'bearer';

/** A session credential read from a request: the cookie's value or the bearer token. */
export interface SessionCredential {
  token: string;
  source: CredentialSource;
}

/** Request headers as Node, Express, Fastify and socket handshakes expose them. */
export type RequestHeaders = Record<string, string | string[] | undefined>;

const MAX_COOKIE_HEADER = 16_384;

/**
 * Parses a `Cookie` header into whole `name=value` pairs (split on `;`, names trimmed and compared
 * whole). A name that appears more than once maps to `null`: a duplicate of a security cookie is
 * refused, never resolved to whichever copy an attacker planted first.
 */
export function parseCookies(header: string | undefined): Map<string, string | null> {
  const cookies = new Map<string, string | null>();
  if (!header || header.length > MAX_COOKIE_HEADER) return cookies;
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq === -1) continue;
    const name = pair.slice(0, eq).trim();
    if (name === '') continue;
    let value: string | null = pair.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    if (value.includes('%')) {
      try {
        value = decodeURIComponent(value);
      } catch {
        value = null;
      }
    }
    cookies.set(name, cookies.has(name) ? null : value);
  }
  return cookies;
}

/** One cookie's value, or `undefined` when it is absent, empty, undecodable or sent twice. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  const value = parseCookies(header).get(name);
  return value === null || value === '' ? undefined : value;
}

/** Appends a response header on an Express response or a Fastify reply (repeated `Set-Cookie` kept). */
export function appendHeader(response: unknown, name: string, value: string): void {
  const res = response as {
    append?: (name: string, value: string) => void;
    header?: (name: string, value: string) => void;
    raw?: unknown;
  };
  if (res.raw !== undefined && typeof res.header === 'function') {
    res.header(name.toLowerCase(), value); // Fastify collects repeated set-cookie headers into a list.
  } else if (typeof res.append === 'function') {
    res.append(name, value);
  } else {
    throw new Error('ArrafAuth: unsupported HTTP platform response object');
  }
}

/**
 * The one owner of the session cookie: its name, how it is read (with `Authorization: Bearer`
 * when `session.bearer` is on), written with its attributes and `Max-Age`, and cleared. Guards,
 * interceptors and controllers call it; services never see a cookie.
 */
@Injectable()
export class SessionCookie {
  private readonly settings: ResolvedArrafAuthOptions['session'];

  constructor(@Inject(ARRAF_AUTH_OPTIONS) options: ResolvedArrafAuthOptions) {
    this.settings = options.session;
  }

  /** The cookie's name, `__Host-` prefixed where that applies. */
  get name(): string {
    return this.settings.cookieName;
  }

  /**
   * The session credential in these request headers: the session cookie, or, when `bearer` is on
   * and there is no cookie, the `Authorization: Bearer` token.
   */
  read(headers: RequestHeaders | undefined): SessionCredential | undefined {
    if (!headers) return undefined;
    const cookie = readCookie(first(headers.cookie), this.settings.cookieName);
    if (cookie !== undefined) return { token: cookie, source: 'cookie' };
    if (this.settings.bearer) {
      const authorization = first(headers.authorization);
      if (authorization !== undefined && authorization.length > 7 && /^bearer /i.test(authorization)) {
        const token = authorization.slice(7).trim();
        if (token !== '') return { token, source: 'bearer' };
      }
    }
    return undefined;
  }

  /** The `Set-Cookie` value for a session token that expires at `expiresAt`. */
  serialize(token: string, expiresAt: Date): string {
    return this.serializeWithMaxAge(token, Math.floor((expiresAt.getTime() - Date.now()) / 1000));
  }

  /**
   * Hands a (new or renewed) session token to the client: `Set-Cookie` for cookie clients, the
   * `Set-Auth-Token` header for bearer clients.
   */
  write(response: unknown, token: string, expiresAt: Date, source: CredentialSource = 'cookie'): void {
    if (source === 'bearer') appendHeader(response, SESSION_TOKEN_HEADER, token);
    else appendHeader(response, 'Set-Cookie', this.serialize(token, expiresAt));
  }

  /** Clears the session cookie. */
  clear(response: unknown): void {
    appendHeader(response, 'Set-Cookie', this.serializeWithMaxAge('', 0));
  }

  private serializeWithMaxAge(value: string, maxAge: number): string {
    const { cookie } = this.settings;
    let out = `${this.settings.cookieName}=${value}; Path=${cookie.path}; Max-Age=${Math.max(0, maxAge)}`;
    if (maxAge <= 0) out += '; Expires=Thu, 01 Jan 1970 00:00:00 GMT';
    if (cookie.domain) out += `; Domain=${cookie.domain}`;
    if (cookie.httpOnly) out += '; HttpOnly';
    if (cookie.secure) out += '; Secure';
    return `${out}; SameSite=${cookie.sameSite[0].toUpperCase()}${cookie.sameSite.slice(1)}`;
  }
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
