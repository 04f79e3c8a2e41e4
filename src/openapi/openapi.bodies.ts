import { z } from 'zod';
import type { Schema } from './openapi.schemas.js';

/** A zod schema as the OpenAPI 3.0 schema of what a client sends (its input side). */
export function inputSchema(schema: z.ZodType): Schema {
  return z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input', unrepresentable: 'any' }) as Schema;
}

/** Request-body components by component name, from the zod schemas (`schemas[key]`) the routes validate with. */
export function bodyComponents<K extends string>(
  names: Readonly<Record<string, K>>,
  schemas: Readonly<Record<K, z.ZodType>>,
): Record<string, Schema> {
  return Object.fromEntries(Object.entries(names).map(([name, key]) => [name, inputSchema(schemas[key])]));
}
