import { createParamDecorator, type ExecutionContext, SetMetadata } from '@nestjs/common';
import type { BodySchemaName } from './request-bodies.js';

/** Metadata key of {@link RequestBody}. */
export const REQUEST_BODY_KEY = 'ARRAF_AUTH:REQUEST_BODY';
/** Where `BodyGuard` leaves the validated body on the request. */
export const PARSED_BODY = Symbol('arraf-auth:parsed-body');

/** What {@link RequestBody} declares. */
export interface RequestBodyRule {
  schema: BodySchemaName;
  /** A request without a body (no `Content-Type`, nothing sent) reads as `{}`. */
  optional: boolean;
}

/**
 * Declares the route's body schema: `BodyGuard` requires a JSON body, validates it (400
 * `INVALID_INPUT` naming the field) and hands the result to `@ValidBody()` and the strategies.
 *
 * @example @Post('otp/send') @RequestBody('otpSend') send(@ValidBody() body: ParsedBody<'otpSend'>) {}
 */
export function RequestBody(
  schema: BodySchemaName,
  { optional = false }: { optional?: boolean } = {},
): MethodDecorator {
  return SetMetadata(REQUEST_BODY_KEY, { schema, optional } satisfies RequestBodyRule);
}

/** The body `BodyGuard` validated for this route. */
export const ValidBody = createParamDecorator(
  (_data: unknown, context: ExecutionContext) =>
    (context.switchToHttp().getRequest<Record<symbol, unknown>>()[PARSED_BODY] as { value?: unknown } | undefined)
      ?.value,
);
