import { Controller, type Type, UseFilters } from '@nestjs/common';
import { ArrafAuthExceptionFilter } from '../errors/arraf-auth-exception.filter.js';

/** Builds the sign-up, sign-in and password routes under `path`. */
export function createPasswordController(path: string): Type<unknown> {
  @Controller(path)
  @UseFilters(ArrafAuthExceptionFilter)
  class PasswordController {}
  return PasswordController;
}
