import type { z } from 'zod';
import { ArrafAuthException } from '../errors/arraf-auth.exception.js';

type Issue = z.core.$ZodIssue;

/**
 * The field an issue is about: its path's first key, the first unknown key, or, for a union no
 * branch of which matched, the field of the branch that came closest.
 */
function fieldOf(issue: Issue): string {
  if (issue.code === 'unrecognized_keys') return issue.keys[0] ?? 'body';
  if (issue.code === 'invalid_union' && issue.path.length === 0 && issue.errors.length > 0) {
    const closest = [...issue.errors].sort((a, b) => a.length - b.length)[0];
    if (closest[0]) return fieldOf(closest[0]);
  }
  const key = issue.path[0];
  if (typeof key === 'string') return key;
  const discriminator = (issue as { discriminator?: unknown }).discriminator;
  return typeof discriminator === 'string' ? discriminator : 'body';
}

/**
 * `body` validated by `schema`, or 400 `INVALID_INPUT` naming the first field at fault
 * (`error.field`; `body` when the body itself is not an object). Only plain JSON objects are read:
 * anything built with another prototype is refused before the schema sees it.
 */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  if (typeof body === 'object' && body !== null) {
    const prototype = Object.getPrototypeOf(body);
    if (Array.isArray(body) || (prototype !== Object.prototype && prototype !== null)) {
      throw new ArrafAuthException('INVALID_INPUT', { field: 'body' });
    }
  } else {
    throw new ArrafAuthException('INVALID_INPUT', { field: 'body' });
  }
  const result = schema.safeParse(body);
  if (!result.success) throw new ArrafAuthException('INVALID_INPUT', { field: fieldOf(result.error.issues[0]) });
  return result.data;
}
