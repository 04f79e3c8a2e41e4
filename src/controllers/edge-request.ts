import type { ExecutionContext } from '@nestjs/common';
import type { RequestHeaders } from '../session/session-cookie.js';

/** The request as the library's guards and interceptors read it on Express and Fastify. */
export interface EdgeRequest {
  method: string;
  headers: RequestHeaders;
  ip?: string;
  body?: unknown;
  params?: Record<string, unknown>;
  query?: Record<string, unknown>;
  user?: unknown;
  authInfo?: unknown;
  [key: symbol]: unknown;
}

/** The HTTP request and response of a route's execution context. */
export function httpOf(context: ExecutionContext): { request: EdgeRequest; response: unknown } {
  const http = context.switchToHttp();
  return { request: http.getRequest<EdgeRequest>(), response: http.getResponse<unknown>() };
}
