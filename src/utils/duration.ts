const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };
const PATTERN = /^(\d+)\s*(s|m|h|d|w)$/;

/**
 * Parses a duration into whole seconds: a non-negative integer number of seconds, or a string
 * such as `'90s'`, `'15m'`, `'12h'`, `'30d'`, `'2w'`. Returns `undefined` for anything else.
 */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value === 'number') {
    return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  }
  if (typeof value !== 'string') return undefined;
  const match = PATTERN.exec(value.trim());
  if (!match) return undefined;
  const seconds = Number(match[1]) * UNITS[match[2]];
  return Number.isSafeInteger(seconds) ? seconds : undefined;
}
