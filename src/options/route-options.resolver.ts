import type { ResolvedArrafAuthOptions } from './arraf-auth-options.interface.js';
import { fail, objectAt } from './option-checks.js';

const ROUTE_PATH = /^[A-Za-z0-9\-_.~]+(\/[A-Za-z0-9\-_.~]+)*$/;

/** `routes`: `true`/`false`, or `{ path }` with the prefix the built-in controllers mount under. */
export function resolveRoutes(value: unknown): ResolvedArrafAuthOptions['routes'] {
  if (value === undefined || value === true) return { enabled: true, path: 'auth' };
  if (value === false) return { enabled: false, path: 'auth' };
  const routes = objectAt('routes', value);
  const path = routes.path ?? 'auth';
  if (typeof path !== 'string') fail('routes.path', 'must be a string such as "auth"');
  const trimmed = path.replace(/^\/+|\/+$/g, '');
  // `.` and `..` segments pass the character check but would be resolved away by clients and proxies.
  if (!ROUTE_PATH.test(trimmed) || trimmed.split('/').some((segment) => segment === '.' || segment === '..')) {
    fail('routes.path', `must be a URL path such as "auth" or "api/auth" (got ${JSON.stringify(path)})`);
  }
  return { enabled: true, path: trimmed };
}
