import { applyDecorators, type CanActivate, Controller, type Type, UseFilters, UseGuards } from '@nestjs/common';
import { ArrafAuthExceptionFilter } from '../errors/arraf-auth-exception.filter.js';

/**
 * Declares a controller of the module's own routes: mounted under `routes.path` by
 * `mountController`, its errors answered in the SPEC's shape by `ArrafAuthExceptionFilter`, and
 * behind `guards` (run in this order) on every route.
 *
 * @example @AuthRoutes(OriginGuard) export class TwoFactorController {}
 */
export function AuthRoutes(...guards: Type<CanActivate>[]): ClassDecorator {
  const decorators = [Controller(), UseFilters(ArrafAuthExceptionFilter)];
  if (guards.length > 0) decorators.push(UseGuards(...guards));
  return applyDecorators(...decorators);
}
