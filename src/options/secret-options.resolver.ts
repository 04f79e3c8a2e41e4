import { Logger } from '@nestjs/common';
import { fail } from './option-checks.js';
import { estimateSecretBits, MIN_SECRET_BITS } from './secret-strength.js';

const MIN_SECRET_LENGTH = 32;
const MIN_DISTINCT_SECRET_CHARS = 10;

/** `secret`: one string or a rotation list, newest first; each long and random enough. */
export function resolveSecrets(value: unknown): string[] {
  if (value === undefined || value === null || value === '') {
    fail('secret', `is required: at least ${MIN_SECRET_LENGTH} random characters (npx arraf-auth secret prints one)`);
  }
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0) fail('secret', 'must contain at least one secret');
  list.forEach((secret, i) => {
    const path = Array.isArray(value) ? `secret[${i}]` : 'secret';
    if (typeof secret !== 'string') fail(path, 'must be a string');
    if ([...secret].length < MIN_SECRET_LENGTH) {
      fail(path, `must be at least ${MIN_SECRET_LENGTH} characters (npx arraf-auth secret prints one)`);
    }
    if (new Set(secret).size < MIN_DISTINCT_SECRET_CHARS) {
      fail(path, 'looks like a placeholder, not a random secret (npx arraf-auth secret prints one)');
    }
    checkSecretStrength(path, secret);
  });
  return list as string[];
}

/**
 * A secret keys every session, code and cookie: in production it must estimate at 128 bits or
 * more (refused otherwise, naming the option); elsewhere a weaker one only draws a warning, so
 * development and test setups keep booting.
 */
let weakSecretWarned = false;

function checkSecretStrength(path: string, secret: string): void {
  const bits = Math.floor(estimateSecretBits(secret));
  if (bits >= MIN_SECRET_BITS) return;
  const problem =
    `is too predictable: about ${bits} bits of estimated entropy, ${MIN_SECRET_BITS} needed ` +
    '(npx arraf-auth secret prints one)';
  if (process.env.NODE_ENV === 'production') fail(path, problem);
  // Once per process: test suites boot many applications with the same development secret.
  if (weakSecretWarned) return;
  weakSecretWarned = true;
  new Logger('ArrafAuth').warn(`${path} ${problem}; it would be refused with NODE_ENV=production`);
}
