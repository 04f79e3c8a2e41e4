import { expect } from '@jest/globals';

/**
 * The `field` an error body may carry (SPEC §9): only on `INVALID_INPUT`, a string named in both
 * the English and the Arabic text. Spread it into the expected `error` object of a strict match.
 */
export function invalidInputField(body: unknown, code: string): { field?: string } {
  const error = (body as { error?: { field?: unknown; en?: unknown; ar?: unknown } } | null)?.error;
  if (code !== 'INVALID_INPUT' || typeof error?.field !== 'string') return {};
  const { field } = error;
  expect([String(error.en).includes(field), String(error.ar).includes(field)]).toEqual([true, true]);
  return { field };
}
