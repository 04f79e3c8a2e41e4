import { dictionary } from '@zxcvbn-ts/language-common';
import type { ArrafAuthErrorCode } from '../errors/error-codes.js';

/**
 * What a new password must satisfy: a length in Unicode code points after NFKC, not one of the
 * most common passwords, and not predictable from repetition, sequences or the account's own
 * identifiers. No composition rules (NIST SP 800-63B, ASVS 6.2).
 */

/** Every refusal the policy can give; each is a 400 with its own code and bilingual reason. */
export type PasswordProblem = Extract<
  ArrafAuthErrorCode,
  'PASSWORD_TOO_SHORT' | 'PASSWORD_TOO_LONG' | 'PASSWORD_TOO_COMMON' | 'PASSWORD_TOO_PREDICTABLE'
>;

/** Shortest remainder, in letters, that a password keeps once a common word or context word is taken out. */
const MIN_REMAINDER = 4;
/** Digits and symbols up to this long next to a context word add nothing (`2024!`). */
const SHORT_SUFFIX = 6;

let commonPasswords: ReadonlySet<string> | undefined;

/** The common-password list of `@zxcvbn-ts/language-common` (about 49,000 entries), lower-cased once. */
function commonList(): ReadonlySet<string> {
  commonPasswords ??= new Set(dictionary['passwords-common'].map((p) => p.normalize('NFKC').toLowerCase()));
  return commonPasswords;
}

/** Number of Unicode code points (an emoji or an accented letter counts as one). */
export function codePointLength(value: string): number {
  let count = 0;
  for (const _ of value) count++;
  return count;
}

/**
 * Longest raw input, in UTF-8 bytes, that is ever normalised or hashed: stops long-password
 * denial of service before any work. Large enough for `maxLength` 4-byte code points.
 */
export function maxPasswordBytes(maxLength: number): number {
  return Math.max(1024, maxLength * 4);
}

/** `value` without leading and trailing characters that are not letters (`!!password123` → `password`). */
function stripNonLetters(value: string): string {
  return value.replace(/^[^\p{L}]+|[^\p{L}]+$/gu, '');
}

/** Whether the password is one short unit repeated (`aaaaaaaa`, `abcabcabc`, `12121212`). */
function isRepetition(chars: string[]): boolean {
  for (let unit = 1; unit <= 3 && unit < chars.length; unit++) {
    if (chars.every((c, i) => c === chars[i % unit])) return true;
  }
  return false;
}

/** Whether every code point is the previous one plus or minus one (`12345678`, `abcdefgh`, `98765432`). */
function isSequence(chars: string[]): boolean {
  if (chars.length < 3) return false;
  const step = chars[1].codePointAt(0)! - chars[0].codePointAt(0)!;
  if (step !== 1 && step !== -1) return false;
  return chars.every((c, i) => i === 0 || c.codePointAt(0)! - chars[i - 1].codePointAt(0)! === step);
}

/**
 * Words a password must not be built on: the app's name, the email address and its local part,
 * the user's name (each lower-cased, at least 3 code points).
 */
export function contextWords(context: { appName?: string; email?: string | null; name?: string | null }): string[] {
  const words = new Set<string>();
  const add = (word: string | null | undefined) => {
    const normalised = word?.normalize('NFKC').toLowerCase().trim();
    if (normalised && codePointLength(normalised) >= 3) words.add(normalised);
  };
  add(context.appName);
  add(context.email);
  add(context.email?.split('@')[0]);
  add(context.name);
  return [...words];
}

/**
 * The first rule `password` (already NFKC-normalised) breaks, or `null` when it is acceptable.
 * Length is counted in code points; the common-list and context checks ignore case.
 */
export function findPasswordProblem(
  password: string,
  rules: { minLength: number; maxLength: number },
  context: readonly string[] = [],
): PasswordProblem | null {
  const chars = [...password];
  if (chars.length < rules.minLength) return 'PASSWORD_TOO_SHORT';
  if (chars.length > rules.maxLength) return 'PASSWORD_TOO_LONG';

  const lower = password.toLowerCase();
  const common = commonList();
  if (common.has(lower)) return 'PASSWORD_TOO_COMMON';
  // A common password dressed up with digits or symbols (`password123456789`, `!!qwerty2024`).
  const core = stripNonLetters(lower);
  if (core !== lower && codePointLength(core) >= MIN_REMAINDER && common.has(core)) return 'PASSWORD_TOO_COMMON';

  const lowerChars = [...lower];
  if (isRepetition(lowerChars) || isSequence(lowerChars)) return 'PASSWORD_TOO_PREDICTABLE';
  for (const word of context) {
    if (!lower.includes(word)) continue;
    // What is left once the word is taken out must stand on its own: `mohammed12345678` leaves a
    // sequence, `ali@example.com2024!` a short run of digits and symbols.
    const rest = lower.split(word).join('');
    const restChars = [...rest];
    if (
      restChars.length < MIN_REMAINDER ||
      common.has(rest) ||
      isRepetition(restChars) ||
      isSequence(restChars) ||
      (restChars.length <= SHORT_SUFFIX && !/\p{L}/u.test(rest))
    ) {
      return 'PASSWORD_TOO_PREDICTABLE';
    }
  }
  return null;
}
