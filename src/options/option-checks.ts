import { parseDuration } from '../utils/duration.js';

/** Thrown at boot when the configuration is unusable; the message names the option. */
export class ArrafAuthConfigError extends Error {
  constructor(path: string, message: string) {
    super(`ArrafAuthModule: invalid option ${path}: ${message}`);
    this.name = 'ArrafAuthConfigError';
  }
}

/** Every refusal goes through here, so each one reads as `path: message`. */
export function fail(path: string, message: string): never {
  throw new ArrafAuthConfigError(path, message);
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function objectAt(path: string, value: unknown): Record<string, unknown> {
  if (value === undefined) return {};
  if (!isPlainObject(value)) fail(path, 'must be an object');
  return value;
}

export function rejectUnknown(path: string, value: Record<string, unknown>, known: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) fail(path ? `${path}.${key}` : key, 'is not a known option');
  }
}

/** The options object at `path` (`{}` when absent), refused when it holds a key outside `known`. */
export function knownOptions(path: string, value: unknown, known: readonly string[]): Record<string, unknown> {
  const record = objectAt(path, value);
  rejectUnknown(path, record, known);
  return record;
}

export function duration(
  path: string,
  value: unknown,
  fallback: string | number | undefined,
  min = 1,
): number | undefined {
  const raw = value ?? fallback;
  if (raw === undefined) return undefined;
  const seconds = parseDuration(raw);
  if (seconds === undefined) {
    fail(path, `must be a whole number of seconds or a string like '15m', '12h', '30d' (got ${JSON.stringify(raw)})`);
  }
  if (seconds < min) fail(path, `must be at least ${min} second${min === 1 ? '' : 's'}`);
  return seconds;
}

export function boolean(path: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') fail(path, 'must be true or false');
  return value;
}

export function oneOf<T extends string>(path: string, value: unknown, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value as T)) {
    fail(path, `must be one of ${allowed.map((a) => `'${a}'`).join(', ')} (got ${JSON.stringify(value)})`);
  }
  return value as T;
}

export function integer(path: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(path, `must be a whole number from ${min} to ${max} (got ${JSON.stringify(value)})`);
  }
  return value;
}

export function functionsAt<T>(path: string, value: unknown, known: readonly string[]): T {
  const record = knownOptions(path, value, known);
  for (const [name, fn] of Object.entries(record)) {
    if (fn !== undefined && typeof fn !== 'function') fail(`${path}.${name}`, 'must be a function');
  }
  return record as T;
}

/** An http(s) URL reduced to its origin, the form the origin check compares. */
export function origin(path: string, value: unknown): string {
  if (typeof value !== 'string') fail(path, 'must be a URL string such as https://example.com');
  const url = URL.parse(value) ?? fail(path, `is not a valid URL (got ${JSON.stringify(value)})`);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') fail(path, 'must use http or https');
  return url.origin;
}
