import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ARRAF_AUTH_OPTIONS } from '../arraf-auth.constants.js';
import { normalizeEmail } from '../auth/email.util.js';
import { type EdgeRequest, httpOf } from '../controllers/edge-request.js';
import { ArrafAuthException } from '../errors/arraf-auth.exception.js';
import type { ResolvedArrafAuthOptions } from '../options/arraf-auth-options.interface.js';
import { maxPasswordBytes } from '../password/password-policy.js';
import { PasswordService } from '../password/password.service.js';
import { parseBody } from './parse-body.js';
import { type BodySchemaName, type BodySchemas, createBodySchemas, type ParsedBody } from './request-bodies.js';
import { PARSED_BODY, REQUEST_BODY_KEY, type RequestBodyRule } from './request-body.decorator.js';

const JSON_TYPE = /^application\/json\s*(;|$)/i;

/**
 * Reads request bodies with the schemas of `request-bodies.ts`, built once for the configured
 * limits. Only JSON is read: a form post (a CORS "simple request") never reaches a state-changing
 * route. A sign-up password is checked against the password rules here, before any rate limit is
 * spent, so a refused sign-up costs the client nothing (the service checks it again).
 */
@Injectable()
export class BodyReader {
  readonly schemas: BodySchemas;

  constructor(
    @Inject(ARRAF_AUTH_OPTIONS) options: ResolvedArrafAuthOptions,
    private readonly passwords: PasswordService,
  ) {
    this.schemas = createBodySchemas({ maxPasswordBytes: maxPasswordBytes(options.password.maxLength) });
  }

  /** The validated body of `schema` (once per request: a second read returns the first result). */
  read<N extends BodySchemaName>(request: EdgeRequest, schema: N, optional = false): ParsedBody<N> {
    const parsed = request[PARSED_BODY] as { schema: N; value: ParsedBody<N> } | undefined;
    if (parsed?.schema === schema) return parsed.value;
    const value = parseBody(this.schemas[schema], jsonBody(request, optional) ?? {}) as ParsedBody<N>;
    if (schema === 'signUp') this.checkSignUpPassword(value as ParsedBody<'signUp'>);
    request[PARSED_BODY] = { schema, value };
    return value;
  }

  private checkSignUpPassword(body: ParsedBody<'signUp'>): void {
    if (body.password === undefined) return;
    const email = body.email === undefined ? null : normalizeEmail(body.email);
    this.passwords.checkNewPassword(body.password, { email, name: body.name });
  }
}

/** The body when it was sent as JSON, else 400; with `optional`, a request without a body is `undefined`. */
function jsonBody(request: EdgeRequest, optional: boolean): unknown {
  const type = request.headers['content-type'];
  if (type === undefined && optional) {
    const body = request.body;
    if (body === undefined || body === null || (typeof body === 'object' && Object.keys(body).length === 0))
      return undefined;
  }
  if (typeof type !== 'string' || !JSON_TYPE.test(type))
    throw new ArrafAuthException('INVALID_INPUT', { field: 'body' });
  return request.body;
}

/** Validates the body of routes marked `@RequestBody(schema)`; other routes pass untouched. */
@Injectable()
export class BodyGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly bodies: BodyReader,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const rule = this.reflector.get<RequestBodyRule | undefined>(REQUEST_BODY_KEY, context.getHandler());
    if (rule) this.bodies.read(httpOf(context).request, rule.schema, rule.optional);
    return true;
  }
}
