import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { ApplicationConfig, HttpAdapterHost } from '@nestjs/core';
import { ARRAF_AUTH_OPTIONS } from '../arraf-auth.constants.js';
import type { ResolvedArrafAuthOptions } from '../options/arraf-auth-options.interface.js';
import { toArrafAuthException } from './arraf-auth-error.mapper.js';
import { ArrafAuthException } from './arraf-auth.exception.js';

type Handler = (...args: never[]) => unknown;
interface FastifyLike {
  addHook(name: 'onRoute', hook: (route: { url?: string; errorHandler?: Handler }) => void): unknown;
  route(options: { method: string[]; url: string; handler: Handler }): unknown;
}
interface ExpressLike {
  use(path: string, handler: Handler): unknown;
}

/** `/api/auth/otp`: path pieces joined with single slashes, from the root, without a trailing slash. */
export function joinRoutePath(...parts: string[]): string {
  return `/${parts
    .flatMap((part) => part.split('/'))
    .filter((part) => part !== '')
    .join('/')}`;
}

/** Methods the prefix's not-found answer covers; OPTIONS is left to CORS preflight handlers. */
const NOT_FOUND_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

/**
 * Gives errors raised before routing on the library's own paths (invalid JSON, oversized bodies,
 * unknown paths under the auth prefix) the `{ error: { code, en, ar } }` shape, without a global
 * filter: Nest consults global filters for every route of the application, so one would change the
 * application's error handling. Instead, scoped to the prefix (global prefix included):
 * - Express: an error middleware and a not-found middleware mounted at the prefix after the routes
 *   (`onModuleInit` runs after Nest registers routes, before its own not-found and error handlers);
 * - Fastify: a per-route `errorHandler` on the library's routes (an `onRoute` hook, added before the
 *   routes from the module's `configure()`), and a catch-all route under the prefix answering 404.
 * Errors inside the library's handlers and guards are answered by `ArrafAuthExceptionFilter`,
 * bound to its controllers with `@UseFilters`.
 */
@Injectable()
export class ArrafAuthRouteErrors implements OnModuleInit {
  private readonly logger = new Logger('ArrafAuth');

  constructor(
    @Inject(ARRAF_AUTH_OPTIONS) private readonly options: ResolvedArrafAuthOptions,
    private readonly adapterHost: HttpAdapterHost,
    private readonly config: ApplicationConfig,
  ) {}

  /** `/api/auth`: the global prefix and the module's route path. */
  get prefix(): string {
    return joinRoutePath(this.config.getGlobalPrefix(), this.options.routes.path);
  }

  /** Called from the module's `configure()`, before Nest registers any route. */
  beforeRoutes(): void {
    const fastify = this.fastify();
    if (!fastify) return;
    const prefix = this.prefix;
    fastify.addHook('onRoute', (route) => {
      if (route.url === prefix || route.url?.startsWith(`${prefix}/`)) route.errorHandler ??= this.fastifyErrorHandler;
    });
  }

  onModuleInit(): void {
    if (!this.options.routes.enabled) return;
    const fastify = this.fastify();
    if (fastify) {
      fastify.route({ method: NOT_FOUND_METHODS, url: `${this.prefix}/*`, handler: this.notFound });
      return;
    }
    const adapter = this.adapterHost.httpAdapter;
    if (adapter?.getType() !== 'express') return;
    const express = adapter.getInstance<ExpressLike>();
    express.use(this.prefix, (request: unknown, response: unknown, next: () => void) => {
      if ((request as { method?: string }).method === 'OPTIONS') return next();
      this.notFound(request, response);
    });
    express.use(this.prefix, (error: unknown, _request: unknown, response: unknown, _next: unknown) =>
      this.reply(response, error),
    );
  }

  private fastify(): FastifyLike | undefined {
    const adapter = this.adapterHost.httpAdapter;
    if (!this.options.routes.enabled || adapter?.getType() !== 'fastify') return undefined;
    return adapter.getInstance<FastifyLike>();
  }

  private readonly fastifyErrorHandler = (error: unknown, _request: unknown, reply: unknown): void =>
    this.reply(reply, error);

  private readonly notFound = (_request: unknown, response: unknown): void =>
    this.reply(response, new ArrafAuthException('NOT_FOUND'));

  private reply(response: unknown, exception: unknown): void {
    const adapter = this.adapterHost.httpAdapter;
    const error = toArrafAuthException(exception, this.logger);
    for (const [name, value] of Object.entries(error.headers)) adapter.setHeader(response, name, value);
    adapter.reply(response, error.getResponse(), error.getStatus());
  }
}
