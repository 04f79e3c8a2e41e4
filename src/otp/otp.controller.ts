import { Controller, type Type, UseFilters } from '@nestjs/common';
import { ArrafAuthExceptionFilter } from '../errors/arraf-auth-exception.filter.js';

/** Builds the phone code routes under `path`. */
export function createOtpController(path: string): Type<unknown> {
  @Controller(path)
  @UseFilters(ArrafAuthExceptionFilter)
  class OtpController {}
  return OtpController;
}
