import { HttpException } from '@nestjs/common';
import { ARRAF_AUTH_ERRORS, type ArrafAuthErrorBody, type ArrafAuthErrorCode } from './error-codes.js';

/**
 * An error with a stable code whose response body is the SPEC's `{ error: { code, en, ar } }`.
 * Nest's default exception handling already answers with that body, so it works on any route.
 * In GraphQL, graphql-js copies `extensions` (`{ code, en, ar }`) into the error the client receives.
 *
 * @example throw new ArrafAuthException('UNAUTHENTICATED');
 */
export class ArrafAuthException extends HttpException {
  /** Extra response headers, e.g. `Retry-After` on 429. */
  readonly headers: Record<string, string>;
  constructor(
    readonly code: ArrafAuthErrorCode,
    options: {
      headers?: Record<string, string>;
      cause?: unknown;
      /** Overrides the catalogue's status (e.g. 405 answered as `INVALID_INPUT`). */
      status?: number;
      /** The request field at fault (`INVALID_INPUT`): named in `error.field` and in both texts. */
      field?: string;
    } = {},
  ) {
    const entry = ARRAF_AUTH_ERRORS[code];
    const { field } = options;
    const body: ArrafAuthErrorBody = {
      error:
        field === undefined
          ? { code, en: entry.en, ar: entry.ar }
          : { code, en: `${entry.en} Field: ${field}.`, ar: `${entry.ar} الحقل: ${field}.`, field },
    };
    super(body, options.status ?? entry.status, { cause: options.cause });
    this.headers = options.headers ?? {};
    // The English text, not "Arraf Auth Exception", wherever a transport shows `message` (GraphQL).
    this.message = entry.en;
  }

  /**
   * The body's `error` object (`{ code, en, ar }`): what GraphQL clients find in
   * `errors[i].extensions` (graphql-js copies an original error's `extensions`) and socket clients
   * in the `exception` event.
   */
  get extensions(): ArrafAuthErrorBody['error'] {
    return { ...(this.getResponse() as ArrafAuthErrorBody).error };
  }
}
