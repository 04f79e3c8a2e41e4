import { z } from 'zod';
import { UUID } from '../utils/uuid.js';

/** Default and largest page of `GET account/events`. */
export const SECURITY_EVENTS_PAGE = { default: 20, max: 100 } as const;

/**
 * The query of `GET account/events`, validated strictly (400 `INVALID_INPUT` naming the field) and
 * described in the OpenAPI output from the same schema.
 */
export const SECURITY_EVENTS_QUERY = z.strictObject({
  before: z
    .union([z.string().regex(UUID), z.iso.datetime({ offset: true })])
    .optional()
    .meta({ description: 'The `next` of the previous page (an event id), or an ISO 8601 time.' }),
  limit: z
    .string()
    .regex(/^[0-9]{1,3}$/)
    .transform(Number)
    .pipe(z.number().int().min(1).max(SECURITY_EVENTS_PAGE.max))
    .optional()
    .meta({ description: `1 to ${SECURITY_EVENTS_PAGE.max}; default ${SECURITY_EVENTS_PAGE.default}.` }),
});

export type SecurityEventsQuery = z.output<typeof SECURITY_EVENTS_QUERY>;

/** Whether `before` names an event (its id) rather than a time. */
export function isEventId(before: string): boolean {
  return UUID.test(before);
}
