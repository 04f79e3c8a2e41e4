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

/** The minimal request shape shared by Express, Fastify and socket handshakes that the library reads. */
export interface HttpRequestLike {
  method: string;
  headers: RequestHeaders;
  ip?: string;
}

type SessionSettings = ResolvedArrafAuthOptions['session'];

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
    cookies.set(name, cookies.has(name) ? null : decodeValue(pair.slice(eq + 1)));
  }
  return cookies;
}

/**
 * One cookie's value, or `undefined` when it is absent, empty, undecodable or sent twice. Same
 * rules as {@link parseCookies}, without building the map (the guard's hot path): a name preceded
 * by a space inside another cookie's value (`pref=x __Host-a=…`) is part of that value, not a cookie.
 */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header || header.length > MAX_COOKIE_HEADER) return undefined;
  let found: string | null | undefined;
  let start = 0;
  let eq = -1;
  while (start <= header.length) {
    let end = header.indexOf(';', start);
    if (end === -1) end = header.length;
    // Search for the next '=' only once the last one is behind us: linear even for `;;;;…`.
    if (eq < start) {
      eq = header.indexOf('=', start);
      if (eq === -1) eq = header.length;
    }
    if (eq < end && nameIs(header, start, eq, name)) {
      if (found !== undefined) return undefined; // sent twice: refuse rather than guess which is genuine
      found = decodeValue(header.slice(eq + 1, end));
    }
    start = end + 1;
  }
  return found === null || found === '' ? undefined : found;
}

/** Whether `header.slice(start, end).trim() === name`, without building the slice (the guard's hot path). */
function nameIs(header: string, start: number, end: number, name: string): boolean {
  while (start < end && isTrimmed(header.charCodeAt(start))) start++;
  while (end > start && isTrimmed(header.charCodeAt(end - 1))) end--;
  return end - start === name.length && header.startsWith(name, start);
}

/** The characters `String.prototype.trim` removes (ECMAScript WhiteSpace and LineTerminator). */
function isTrimmed(c: number): boolean {
  if (c <= 32) return c === 32 || (c >= 9 && c <= 13);
  if (c < 0xa0) return false;
  return (
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff
  );
}

/** A cookie value trimmed, unquoted and percent-decoded; `null` when it does not decode. */
function decodeValue(raw: string): string | null {
  let value = raw.trim();
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
  if (!value.includes('%')) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return null;
  }
}

/**
 * The session credential in request headers: the session cookie, or, when `bearer` is on and
 * there is no cookie, the `Authorization: Bearer` token.
 */
export function readSessionCredential(
  headers: RequestHeaders | undefined,
  settings: Pick<SessionSettings, 'cookieName' | 'bearer'>,
): SessionCredential | undefined {
  if (!headers) return undefined;
  const cookie = readCookie(first(headers.cookie), settings.cookieName);
  if (cookie !== undefined) return { token: cookie, source: 'cookie' };
  if (!settings.bearer) return undefined;
  const authorization = first(headers.authorization);
  if (authorization === undefined || authorization.length <= 7 || !/^bearer /i.test(authorization)) return undefined;
  const token = authorization.slice(7).trim();
  return token === '' ? undefined : { token, source: 'bearer' };
}

/** The session `Set-Cookie` value with the configured attributes. `maxAge` in seconds; 0 or less clears it. */
export function serializeSessionCookie(
  settings: Pick<SessionSettings, 'cookieName' | 'cookie'>,
  value: string,
  maxAge: number,
): string {
  const { cookie } = settings;
  let out = `${settings.cookieName}=${value}; Path=${cookie.path}; Max-Age=${Math.max(0, Math.floor(maxAge))}`;
  if (maxAge <= 0) out += '; Expires=Thu, 01 Jan 1970 00:00:00 GMT';
  if (cookie.domain) out += `; Domain=${cookie.domain}`;
  if (cookie.httpOnly) out += '; HttpOnly';
  if (cookie.secure) out += '; Secure';
  return `${out}; SameSite=${cookie.sameSite[0].toUpperCase()}${cookie.sameSite.slice(1)}`;
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
  private readonly settings: SessionSettings;

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
    return readSessionCredential(headers, this.settings);
  }

  /** The `Set-Cookie` value for a session token that expires at `expiresAt`. */
  serialize(token: string, expiresAt: Date): string {
    return serializeSessionCookie(this.settings, token, (expiresAt.getTime() - Date.now()) / 1000);
  }

  /**
   * Hands a (new or renewed) session token to the client: `Set-Cookie` for cookie clients, the
   * `Set-Auth-Token` header for bearer clients.
   */
  write(response: unknown, token: string, expiresAt: Date, source: CredentialSource = 'cookie'): void {
    if (source === 'bearer') appendHeader(response, SESSION_TOKEN_HEADER, token);
    else appendHeader(response, 'Set-Cookie', this.serialize(token, expiresAt));
  }

  /** Clears the session cookie (`Max-Age=0`). */
  clear(response: unknown): void {
    appendHeader(response, 'Set-Cookie', serializeSessionCookie(this.settings, '', 0));
  }
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
