import { inputSchema } from '../openapi/openapi.bodies.js';
import type { PathContext, Paths } from '../openapi/openapi.paths.js';
import { nullableStr, object, ok, ref, type Schema, str } from '../openapi/openapi.schemas.js';
import { signedInOperation } from '../openapi/openapi.signed-in.js';
import { SECURITY_EVENT_TYPES } from './security-event.types.js';
import { SECURITY_EVENTS_QUERY } from './security-events.query.js';

/** The components `GET account/events` refers to. */
export function securityEventComponents(): Record<string, Schema> {
  const event = object({
    id: str({ format: 'uuid' }),
    type: str({ enum: [...SECURITY_EVENT_TYPES] }),
    method: nullableStr({
      example: 'password',
      description: 'phone, email, password, oauth:<provider>, passkey, totp, backup_code',
    }),
    ip: nullableStr({ example: '203.0.113.7' }),
    userAgent: nullableStr(),
    detail: {
      type: 'object',
      nullable: true,
      additionalProperties: true,
      description: 'Small facts (a reason, a count); never a secret.',
    },
    createdAt: str({ format: 'date-time' }),
  });
  return {
    ArrafAuthSecurityEventPage: object({
      events: { type: 'array', items: event },
      next: nullableStr({ description: 'Pass as `before` for the next page; `null` on the last page.' }),
    }),
  };
}

/** `GET account/events`. */
export function securityEventPaths(context: PathContext): Paths {
  const parameters = Object.entries(SECURITY_EVENTS_QUERY.shape).map(([name, schema]) => ({
    name,
    in: 'query',
    required: false,
    schema: inputSchema(schema),
  }));
  return {
    [`${context.prefix}/account/events`]: {
      get: signedInOperation(context, {
        id: 'listSecurityEvents',
        summary: "The signed-in user's security events",
        description:
          'Sign-ins (and failed attempts), sign-outs, revoked sessions, password and second-factor changes, newest first.',
        parameters,
        result: ok('A page of events, newest first.', ref('ArrafAuthSecurityEventPage')),
        codes: ['INVALID_INPUT', 'SERVICE_UNAVAILABLE'],
      }),
    },
  };
}
