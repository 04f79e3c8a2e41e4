import type { OAuthProfile } from './oauth-provider.interface.js';

const MAX_EMAIL = 254;
const MAX_NAME = 255;
const MAX_SUBJECT = 255;
const MAX_IMAGE = 2048;
// The canonical form the users table keeps: one `@`, a plain local part (no quotes, spaces, commas
// or brackets that let one string carry several addresses), a domain of two or more labels.
const LOCAL_PART = /^[\p{L}\p{M}\p{N}!#$%&'*+/=?^_`{|}~.-]{1,64}$/u;
const DOMAIN_LABEL = /^[\p{L}\p{M}\p{N}](?:[\p{L}\p{M}\p{N}-]{0,61}[\p{L}\p{M}\p{N}])?$/u;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
// eslint-disable-next-line no-control-regex
const CONTROL_ALL = /[\u0000-\u001f\u007f]/g;

/** The provider's email in the form the `users` table keeps (NFKC, lower case), or `null` when unusable. */
export function normalizeProviderEmail(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const email = value.normalize('NFKC').trim().toLowerCase();
  if (email.length > MAX_EMAIL || CONTROL.test(email)) return null;
  const parts = email.split('@');
  if (parts.length !== 2 || !LOCAL_PART.test(parts[0])) return null;
  const labels = parts[1].split('.');
  const topLevel = labels[labels.length - 1];
  const domainOk = labels.length >= 2 && labels.every((label) => DOMAIN_LABEL.test(label)) && !/^\d+$/.test(topLevel);
  return domainOk ? email : null;
}

/** A display name cut to the column size, or `null`. */
export function providerName(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const name = value.normalize('NFKC').replace(CONTROL_ALL, '').trim();
  return name === '' ? null : [...name].slice(0, MAX_NAME).join('');
}

/** An https picture URL, or `null`: anything else could be `javascript:` or a tracking http URL. */
export function providerImage(value: unknown): string | null {
  if (typeof value !== 'string' || value.length > MAX_IMAGE) return null;
  try {
    return new URL(value).protocol === 'https:' ? value : null;
  } catch {
    return null;
  }
}

/** The provider's subject as a non-empty string that fits `accounts.accountId`. */
export function providerSubject(value: unknown): string {
  const subject = typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : value;
  if (typeof subject !== 'string' || subject === '' || subject.length > MAX_SUBJECT || CONTROL.test(subject)) {
    throw new Error('the provider returned no usable subject identifier');
  }
  return subject;
}

/**
 * The profile of an OpenID Connect user from validated id_token (and UserInfo) claims.
 * `email_verified` counts only as the boolean `true`: some providers send the string `"false"`.
 */
export function profileFromClaims(claims: Record<string, unknown>): OAuthProfile {
  const email = normalizeProviderEmail(claims.email);
  return {
    id: providerSubject(claims.sub),
    email,
    emailVerified: email !== null && claims.email_verified === true,
    name: providerName(claims.name),
    image: providerImage(claims.picture),
  };
}
