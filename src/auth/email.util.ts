import { domainToASCII, domainToUnicode } from 'node:url';
import { ArrafAuthException } from '../errors/arraf-auth.exception.js';

/** Longest address accepted (RFC 5321 path limit), in code points after normalisation. */
export const MAX_EMAIL_LENGTH = 254;
/** Longest local part (RFC 5321). */
const MAX_LOCAL_LENGTH = 64;
/** Longest raw input looked at; anything longer is refused before normalisation does any work. */
const MAX_RAW_EMAIL_LENGTH = 1024;

/**
 * Local part: letters and digits of any script (internationalised addresses such as `josé@…`),
 * combining marks, and RFC 5322 atext symbols. No quotes, spaces, commas, semicolons, colons,
 * angle or square brackets, parentheses or backslashes: the characters that let one string carry
 * several addresses, a display name or a quoted `@` (next-auth CVE-2022-35924, GHSA-5jpx-9hw9-2fx4).
 */
const LOCAL_PART = /^[\p{L}\p{M}\p{N}!#$%&'*+/=?^_`{|}~.-]+$/u;
/** One domain label: letters, marks and digits of any script and inner hyphens. */
const DOMAIN_LABEL = /^[\p{L}\p{M}\p{N}](?:[\p{L}\p{M}\p{N}-]{0,61}[\p{L}\p{M}\p{N}])?$/u;

function codePoints(value: string): number {
  let count = 0;
  for (const _ of value) count++;
  return count;
}

/** DNS limits, in octets of the ASCII (punycode) form. */
const MAX_DNS_LABEL = 63;
const MAX_DNS_NAME = 253;

/**
 * The Unicode form of a domain after IDNA (UTS #46) processing, so `bücher.de`, `BÜCHER.de` and
 * `xn--bcher-kva.de` are one domain; `undefined` when it is not a valid IDN (bad punycode, a label
 * or name over the DNS limits).
 */
function canonicalDomain(domain: string): string | undefined {
  const ascii = domainToASCII(domain);
  if (ascii === '' || ascii.length > MAX_DNS_NAME) return undefined;
  if (ascii.split('.').some((label) => label.length > MAX_DNS_LABEL)) return undefined;
  const unicode = domainToUnicode(ascii);
  return unicode === '' ? undefined : unicode;
}

function invalid(): never {
  throw new ArrafAuthException('INVALID_EMAIL');
}

/**
 * The canonical form of an email address, or 400 `INVALID_EMAIL`. Unicode NFKC comes first, so a
 * fullwidth `＠` or other compatibility form is checked as the character it turns into
 * (`a＠evil.com@x` has two `@` and is refused, next-auth GHSA-7rqj-j65f-68wh); then surrounding
 * space is trimmed and the address lower-cased. The domain goes through IDNA (UTS #46) and is kept
 * in its Unicode form, so `a@bücher.de` and `a@xn--bcher-kva.de` are one address (one account).
 * The result has exactly one `@`, a plain local part, a domain of at least two labels with a
 * non-numeric top level, and at most 254 code points. Addresses are stored and looked up in this
 * form, compared exactly.
 *
 * @example normalizeEmail(' Ali@Example.COM ') === 'ali@example.com'
 */
export function normalizeEmail(input: unknown): string {
  if (typeof input !== 'string' || input.length === 0 || input.length > MAX_RAW_EMAIL_LENGTH) invalid();
  const email = input.normalize('NFKC').trim().toLowerCase();
  if (codePoints(email) > MAX_EMAIL_LENGTH) invalid();
  const at = email.indexOf('@');
  if (at <= 0 || at !== email.lastIndexOf('@')) invalid();
  const local = email.slice(0, at);
  if (codePoints(local) > MAX_LOCAL_LENGTH || !LOCAL_PART.test(local)) invalid();
  if (local.startsWith('.') || local.endsWith('.') || local.includes('..')) invalid();
  const raw = email.slice(at + 1);
  // The written form is checked first, so IDNA's own mappings cannot admit characters it refuses.
  if (!raw.split('.').every((label) => DOMAIN_LABEL.test(label))) invalid();
  const domain = canonicalDomain(raw) ?? invalid();
  const labels = domain.split('.');
  if (labels.length < 2 || !labels.every((label) => DOMAIN_LABEL.test(label))) invalid();
  // A numeric top level is an IP address in disguise, not a mail domain.
  if (/^\p{N}+$/u.test(labels[labels.length - 1])) invalid();
  const canonical = `${local}@${domain}`;
  if (codePoints(canonical) > MAX_EMAIL_LENGTH) invalid();
  return canonical;
}
