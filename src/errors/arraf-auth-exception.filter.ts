import { type ArgumentsHost, Catch, type ExceptionFilter, Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { toArrafAuthException } from './arraf-auth-error.mapper.js';
import { ArrafAuthException } from './arraf-auth.exception.js';
import { toWsException } from './transport-errors.js';

/**
 * Answers every error of the library's routes in the SPEC's shape, with the exception's headers
 * (`Retry-After`). A database that cannot be reached (refused, dropped or timed-out connections,
 * lock timeouts) is a 503 `SERVICE_UNAVAILABLE`; other unknown errors become a generic 500. No stack
 * trace, SQL or token leaves either way.
 * Applications may also register it globally to give their own HTTP routes the same shape; GraphQL
 * and WebSocket errors pass through it unchanged, to the driver and to Nest's socket handling.
 */
@Catch()
export class ArrafAuthExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('ArrafAuth');

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(exception: unknown, host: ArgumentsHost): unknown {
    const type = host.getType<string>();
    if (type === 'ws') return this.catchWs(exception, host);
    // GraphQL, RPC: rethrown, as Nest's own handling does there; the driver formats it.
    if (type !== 'http') throw exception;
    const response = host.switchToHttp().getResponse();
    const adapter = this.adapterHost.httpAdapter;
    const error = toArrafAuthException(exception, this.logger);
    for (const [name, value] of Object.entries(error.headers)) adapter.setHeader(response, name, value);
    adapter.reply(response, error.getResponse(), error.getStatus());
    return undefined;
  }

  /** Hands a socket error to Nest's own WebSocket filter: the library's codes as `{ code, en, ar }`. */
  private async catchWs(exception: unknown, host: ArgumentsHost): Promise<void> {
    const { BaseWsExceptionFilter } = await import('@nestjs/websockets');
    const error = exception instanceof ArrafAuthException ? await toWsException(exception) : exception;
    new BaseWsExceptionFilter().catch(error, host);
  }
}
