import type { ARRAF_AUTH_ERRORS } from '../errors/error-codes.js';
import type { PathContext } from './openapi.paths.js';
import { errors, json, ref, type Schema } from './openapi.schemas.js';

type ErrorCode = keyof typeof ARRAF_AUTH_ERRORS;

/** A route that needs a session, as {@link signedInOperation} describes it. */
export interface SignedInRoute {
  /** The operationId, without the `arrafAuth_` prefix. */
  id: string;
  summary: string;
  /** The route's own text. */
  description?: string;
  /** Needs a recent sign-in (`session.freshAge`): 403 `SESSION_NOT_FRESH`. */
  fresh?: boolean;
  /**
   * Checks the origin of a browser request: 403 `INVALID_ORIGIN`. `'noted'` also ends the
   * description with the sentence that says so.
   */
  origin?: boolean | 'noted';
  /** Counted by a rate limit: 429 `RATE_LIMITED`. */
  limited?: boolean;
  parameters?: Schema[];
  /** The request body's component name. */
  body?: string;
  /** The body may be left out (no `Content-Type`, nothing sent). */
  optionalBody?: boolean;
  /** The success response, e.g. `ok('Done.', ref('ArrafAuthSuccess'))`. */
  result: Schema;
  /** The success response's status. @default 200 */
  status?: 200 | 302;
  /**
   * The route's own error codes. The responses list the common ones (401 `UNAUTHENTICATED`, then
   * those of `fresh`, `origin` and `limited`) first, within their status; a common code listed here
   * too stands where it is listed instead.
   */
  codes?: readonly ErrorCode[];
}

/** The error codes of `route`: the common ones of a signed-in route, then the route's own. */
function signedInCodes(route: SignedInRoute): ErrorCode[] {
  const common: ErrorCode[] = [
    'UNAUTHENTICATED',
    ...(route.fresh ? (['SESSION_NOT_FRESH'] as const) : []),
    ...(route.origin ? (['INVALID_ORIGIN'] as const) : []),
    ...(route.limited ? (['RATE_LIMITED'] as const) : []),
  ];
  const all = [...common, ...(route.codes ?? [])];
  return all.filter((code, index) => all.lastIndexOf(code) === index);
}

/**
 * The operation of a route that needs a session: the session (or bearer) security requirement,
 * the success response and the error responses of the common refusals plus the route's own codes.
 */
export function signedInOperation({ signedIn, origin, operation }: PathContext, route: SignedInRoute): Schema {
  const description = [route.description, route.origin === 'noted' ? origin : undefined].filter(Boolean).join(' ');
  return operation(route.id, route.summary, {
    ...(description ? { description } : {}),
    security: signedIn,
    ...(route.parameters ? { parameters: route.parameters } : {}),
    ...(route.body ? { requestBody: { required: !route.optionalBody, ...json(ref(route.body)) } } : {}),
    responses: { [route.status ?? 200]: route.result, ...errors(...signedInCodes(route)) },
  });
}
