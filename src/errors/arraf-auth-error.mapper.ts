import { HttpException, type Logger } from '@nestjs/common';
import { ArrafAuthException } from './arraf-auth.exception.js';
import type { ArrafAuthErrorCode } from './error-codes.js';
import { isServiceUnavailableError } from './service-unavailable.util.js';

const STATUS_TO_CODE: Record<number, ArrafAuthErrorCode> = {
  400: 'INVALID_INPUT',
  401: 'UNAUTHENTICATED',
  // A guard that returns false (the application's or an overridden one): not an origin problem.
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  413: 'INVALID_INPUT',
  415: 'INVALID_INPUT',
  429: 'RATE_LIMITED',
  503: 'SERVICE_UNAVAILABLE',
};

/**
 * Turns anything thrown on the library's routes into an `ArrafAuthException`: HTTP exceptions and
 * body-parser errors by status, an unreachable database as 503 `SERVICE_UNAVAILABLE`, the rest as a
 * generic 500 whose details only reach the log.
 */
export function toArrafAuthException(exception: unknown, logger: Logger): ArrafAuthException {
  if (exception instanceof ArrafAuthException) return exception;
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const code = STATUS_TO_CODE[status];
    if (code) return new ArrafAuthException(code);
    if (status >= 400 && status < 500) return new ArrafAuthException('INVALID_INPUT', { status });
  }
  // Body-parser (Express) and content-type parser (Fastify) errors carry a 4xx status without being HttpExceptions.
  const status =
    (exception as { status?: unknown; statusCode?: unknown } | null)?.status ??
    (exception as { statusCode?: unknown } | null)?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new ArrafAuthException(status === 429 ? 'RATE_LIMITED' : 'INVALID_INPUT');
  }
  if (isServiceUnavailableError(exception)) {
    // The database (or another backing service) is down: a retryable 503 in the usual shape.
    logger.error(`Service unavailable: ${exception instanceof Error ? exception.message : String(exception)}`);
    return new ArrafAuthException('SERVICE_UNAVAILABLE', { cause: exception });
  }
  logger.error(exception instanceof Error ? (exception.stack ?? exception.message) : String(exception));
  return new ArrafAuthException('INTERNAL_ERROR');
}
