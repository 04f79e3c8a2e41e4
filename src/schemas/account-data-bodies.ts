import { z } from 'zod';
import type { EdgeRequest } from '../controllers/edge-request.js';
import { ArrafAuthException } from '../errors/arraf-auth.exception.js';
import { parseBody } from './parse-body.js';

/**
 * The body of `DELETE /auth/account`: validated strictly (400 `INVALID_INPUT` naming the field)
 * and described in the OpenAPI output from the same schema.
 */
export const ACCOUNT_DATA_BODIES = {
  accountDelete: z
    .strictObject({
      password: z
        .string()
        .min(1)
        .max(1024)
        .optional()
        .meta({ description: 'The current password (accounts that have one).' }),
      otp: z.string().min(1).max(32).optional().meta({
        example: '123456',
        description: 'The code `POST /auth/account/delete/code` sent to the verified phone.',
      }),
    })
    .refine((body) => (body.password === undefined) !== (body.otp === undefined), {
      path: ['password'],
      message: 'send either password or otp',
    })
    .meta({ description: 'Exactly one of `password` and `otp`.' }),
} as const;

export type AccountDataBodyName = keyof typeof ACCOUNT_DATA_BODIES;
export type AccountDataBody<N extends AccountDataBodyName> = z.output<(typeof ACCOUNT_DATA_BODIES)[N]>;

const JSON_TYPE = /^application\/json\s*(;|$)/i;

/** The request's JSON body validated by the schema `name`. */
export function readAccountDataBody<N extends AccountDataBodyName>(request: EdgeRequest, name: N): AccountDataBody<N> {
  const type = request.headers['content-type'];
  if (typeof type !== 'string' || !JSON_TYPE.test(type))
    throw new ArrafAuthException('INVALID_INPUT', { field: 'body' });
  return parseBody(ACCOUNT_DATA_BODIES[name], request.body) as AccountDataBody<N>;
}
