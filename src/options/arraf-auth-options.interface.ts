import type { Session } from '../entities/session.entity.js';
import type { User } from '../entities/user.entity.js';

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
}

/** Hooks the library calls around its flows; a hook that throws stops the flow. */
export interface ArrafAuthHooks {
  /** Called before a session is revoked by `POST /auth/sign-out`. */
  beforeSignOut?: (context: { user: User; session: Session }) => void | Promise<void>;
}

/** Options of {@link ArrafAuthModule.forRoot}. Validated once at boot. */
export interface ArrafAuthOptions {
  /**
   * Secret(s) of at least 32 characters. The first signs; all verify, so a new secret can be put
   * first while tokens signed with the old one stay valid. Generate one with `npx arraf-auth secret`.
   */
  secret: string | string[];
  /** Session strategy, lifetimes and cookie. */
  session?: ArrafAuthSessionOptions;
  /** Hooks around the flows. */
  hooks?: ArrafAuthHooks;
  /**
   * Origins (scheme://host[:port]) allowed to make state-changing requests with the session cookie,
   * besides `appUrl`. @default []
   */
  trustedOrigins?: string[];
  /**
   * Mount the built-in routes (`true`), not at all (`false`), or under another prefix.
   * With `forRootAsync`, pass `routes` next to `useFactory`: controllers are registered before the
   * factory runs. @default true (prefix 'auth')
   */
  routes?: boolean | { path?: string };
  /** Shown in SMS texts and emails. @default 'Arraf' */
  appName?: string;
  /** The application's public URL; its origin is trusted for state-changing requests. */
  appUrl?: string;
}

/** The options after validation, every default applied. The rest of the library reads only this. */
export interface ResolvedArrafAuthOptions {
  secrets: readonly string[];
  session: {
    strategy: 'jwt' | 'database';
    expiresIn: number;
    updateAge: number;
    /** The cookie's full name, `__Host-` prefix included where it applies. */
    cookieName: string;
    cookie: {
      secure: boolean;
      httpOnly: boolean;
      sameSite: 'strict' | 'lax' | 'none';
      domain: string | undefined;
      path: string;
    };
    bearer: boolean;
    idleTimeout: number | undefined;
    freshAge: number;
  };
  hooks: ArrafAuthHooks;
  /** `appUrl`'s origin and `trustedOrigins`, normalised. */
  trustedOrigins: readonly string[];
  routes: { enabled: boolean; path: string };
  appName: string;
  appUrl: string | undefined;
}
