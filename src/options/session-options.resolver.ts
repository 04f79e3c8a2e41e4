import { resolveSessionCache } from '../session/session-cache.options.js';
import type { ResolvedArrafAuthOptions } from './arraf-auth-options.interface.js';
import { boolean, duration, fail, objectAt, oneOf, rejectUnknown } from './option-checks.js';

type ResolvedSession = ResolvedArrafAuthOptions['session'];

const COOKIE_NAME = /^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/;
const KNOWN_SESSION_KEYS = [
  'strategy',
  'expiresIn',
  'updateAge',
  'cookieName',
  'cookieOptions',
  'bearer',
  'idleTimeout',
  'freshAge',
  'absoluteTimeout',
  'cache',
];
const KNOWN_COOKIE_KEYS = ['secure', 'httpOnly', 'sameSite', 'domain', 'path', 'hostPrefix'];

/** Misspelt session keys are refused before any other option is read. */
export function rejectUnknownSessionKeys(value: unknown): void {
  const session = objectAt('session', value);
  rejectUnknown('session', session, KNOWN_SESSION_KEYS);
  rejectUnknown('session.cookieOptions', objectAt('session.cookieOptions', session.cookieOptions), KNOWN_COOKIE_KEYS);
}

/** `session`: the lifetimes, checked against each other, and the cookie. */
export function resolveSession(value: unknown): ResolvedSession {
  const session = objectAt('session', value);
  const cookieOptions = objectAt('session.cookieOptions', session.cookieOptions);
  return {
    strategy: oneOf('session.strategy', session.strategy, ['jwt', 'database'] as const, 'jwt'),
    ...resolveLifetimes(session),
    ...resolveCookie(session.cookieName, cookieOptions),
    bearer: boolean('session.bearer', session.bearer, false),
    cache: resolveSessionCache(session.cache, fail),
  };
}

function resolveLifetimes(session: Record<string, unknown>) {
  const expiresIn = duration('session.expiresIn', session.expiresIn, '30d')!;
  const updateAge = duration('session.updateAge', session.updateAge, '1d', 0)!;
  const idleTimeout = duration('session.idleTimeout', session.idleTimeout, undefined, 60);
  const freshAge = duration('session.freshAge', session.freshAge, '1d')!;
  const absoluteTimeout = duration('session.absoluteTimeout', session.absoluteTimeout, '90d')!;
  if (absoluteTimeout < expiresIn) {
    const which = session.absoluteTimeout === undefined ? "(default '90d') " : '';
    fail('session.absoluteTimeout', `${which}must be at least session.expiresIn; raise it or shorten expiresIn`);
  }
  if (updateAge >= expiresIn) {
    // A short expiresIn alone trips the '1d' default: say so, or the user hunts for an option they never set.
    const which = session.updateAge === undefined ? "(default '1d') " : '';
    fail('session.updateAge', `${which}must be shorter than session.expiresIn; set session.updateAge below it`);
  }
  return { expiresIn, updateAge, idleTimeout, freshAge, absoluteTimeout };
}

function resolveCookie(
  cookieNameOption: unknown,
  cookieOptions: Record<string, unknown>,
): Pick<ResolvedSession, 'cookieName' | 'cookie'> {
  const baseName = cookieNameOption ?? 'auth_session';
  if (typeof baseName !== 'string' || !COOKIE_NAME.test(baseName)) {
    fail('session.cookieName', 'must be a non-empty cookie token (letters, digits, - _ . and similar)');
  }
  if (/^__(host|secure)-/i.test(baseName)) {
    fail('session.cookieName', 'must not carry a __Host- or __Secure- prefix; the library adds __Host- itself');
  }
  const secure = boolean('session.cookieOptions.secure', cookieOptions.secure, true);
  const httpOnly = boolean('session.cookieOptions.httpOnly', cookieOptions.httpOnly, true);
  const sameSite = oneOf(
    'session.cookieOptions.sameSite',
    cookieOptions.sameSite,
    ['strict', 'lax', 'none'] as const,
    'lax',
  );
  if (sameSite === 'none' && !secure) {
    fail(
      'session.cookieOptions.sameSite',
      "'none' requires session.cookieOptions.secure: true (browsers drop it otherwise)",
    );
  }
  const domain = cookieOptions.domain;
  if (domain !== undefined && (typeof domain !== 'string' || !/^\.?[A-Za-z0-9.-]+$/.test(domain))) {
    fail('session.cookieOptions.domain', 'must be a host name such as example.com');
  }
  const path = cookieOptions.path ?? '/';
  if (typeof path !== 'string' || !path.startsWith('/') || /[;\s]/.test(path)) {
    fail('session.cookieOptions.path', "must start with '/' and contain no ';' or spaces");
  }
  const cookieName = hostPrefixed(baseName, cookieOptions.hostPrefix, secure && domain === undefined && path === '/');
  return { cookieName, cookie: { secure, httpOnly, sameSite, domain: domain as string | undefined, path } };
}

/** `__Host-` by default whenever the cookie qualifies for it; `hostPrefix: true` insists on it. */
function hostPrefixed(baseName: string, hostPrefixOption: unknown, possible: boolean): string {
  if (hostPrefixOption !== undefined && typeof hostPrefixOption !== 'boolean') {
    fail('session.cookieOptions.hostPrefix', 'must be true or false');
  }
  if (hostPrefixOption === true && !possible) {
    fail('session.cookieOptions.hostPrefix', 'a __Host- cookie must be secure, have no domain and path /');
  }
  return hostPrefixOption !== false && possible ? `__Host-${baseName}` : baseName;
}
