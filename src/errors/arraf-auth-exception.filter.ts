import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
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
 * Answers every error of the library's routes in the SPEC's shape, with the exception's headers
 * (`Retry-After`). A database that cannot be reached (refused, dropped or timed-out connections,
 * lock timeouts) is a 503 `SERVICE_UNAVAILABLE`; other unknown errors become a generic 500. No stack
 * trace, SQL or token leaves either way.
 * Applications may also register it globally to give their own routes the same shape.
 */
@Catch()
export class ArrafAuthExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('ArrafAuth');

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse();
    const adapter = this.adapterHost.httpAdapter;
    const error = this.toArrafException(exception);
    for (const [name, value] of Object.entries(error.headers)) adapter.setHeader(response, name, value);
    adapter.reply(response, error.getResponse(), error.getStatus());
  }

  private toArrafException(exception: unknown): ArrafAuthException {
    if (exception instanceof ArrafAuthException) return exception;
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const code = STATUS_TO_CODE[status];
      if (code) return new ArrafAuthException(code);
      if (status >= 400 && status < 500) return new ArrafAuthException('INVALID_INPUT', { status });
    }
    // Body-parser errors carry a 4xx `status` without being HttpExceptions.
    const status =
      (exception as { status?: unknown; statusCode?: unknown } | null)?.status ??
      (exception as { statusCode?: unknown } | null)?.statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      return new ArrafAuthException(status === 429 ? 'RATE_LIMITED' : 'INVALID_INPUT');
    }
    if (isServiceUnavailableError(exception)) {
      // The database (or another backing service) is down: a retryable 503 in the usual shape.
      this.logger.error(`Service unavailable: ${exception instanceof Error ? exception.message : String(exception)}`);
      return new ArrafAuthException('SERVICE_UNAVAILABLE', { cause: exception });
    }
    this.logger.error(exception instanceof Error ? (exception.stack ?? exception.message) : String(exception));
    return new ArrafAuthException('INTERNAL_ERROR');
  }
}
