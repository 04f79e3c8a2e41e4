import { type ArgumentsHost, Catch, Inject } from '@nestjs/common';
import { BaseExceptionFilter, HttpAdapterHost } from '@nestjs/core';
import { ARRAF_AUTH_OPTIONS } from '../arraf-auth.constants.js';
import type { ResolvedArrafAuthOptions } from '../options/arraf-auth-options.interface.js';
import { ArrafAuthExceptionFilter } from './arraf-auth-exception.filter.js';

/**
 * Registered globally by the module so errors raised before routing (invalid JSON, oversized
 * bodies) on the library's own routes get the `{ error: { code, en, ar } }` shape too. Every
 * other request is handed to Nest's default handling unchanged.
 */
@Catch()
export class ArrafAuthRoutesExceptionFilter extends BaseExceptionFilter {
  private readonly prefix: string;

  constructor(
    @Inject(ARRAF_AUTH_OPTIONS) options: ResolvedArrafAuthOptions,
    adapterHost: HttpAdapterHost,
    private readonly shaped: ArrafAuthExceptionFilter,
  ) {
    super(adapterHost.httpAdapter);
    this.prefix = `/${options.routes.path}/`;
  }

  override catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() === 'http' && this.isAuthRoute(host)) return this.shaped.catch(exception, host);
    return super.catch(exception, host);
  }

  private isAuthRoute(host: ArgumentsHost): boolean {
    const request = host.switchToHttp().getRequest<{ url?: string; originalUrl?: string }>();
    const url = request.originalUrl ?? request.url ?? '';
    const path = url.split('?', 1)[0];
    // `includes`, not `startsWith`: the application may set a global prefix (`/api/auth/...`).
    return path.includes(this.prefix);
  }
}
