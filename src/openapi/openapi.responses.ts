import type { ARRAF_AUTH_ERRORS } from '../errors/error-codes.js';
import { EDGE_ERRORS, errors, ok, type Schema, setCookie } from './openapi.schemas.js';

/**
 * The responses of a route that signs in: `result` with the session cookie under `status`, and the
 * error responses of the route's own `codes` plus how any sign-in is refused: a malformed body,
 * the application's hook and the edge rules.
 */
export function signInAnswers(
  status: 200 | 201,
  description: string,
  result: Schema,
  codes: readonly (keyof typeof ARRAF_AUTH_ERRORS)[],
): Record<string, Schema> {
  return {
    [status]: ok(description, result, setCookie),
    ...errors('INVALID_INPUT', ...codes, 'HOOK_REJECTED', ...EDGE_ERRORS),
  };
}
