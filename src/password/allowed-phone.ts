import { ArrafAuthException } from '../errors/arraf-auth.exception.js';
import type { ResolvedArrafAuthOptions } from '../options/arraf-auth-options.interface.js';
import { parsePhone } from '../phone/normalize-phone.js';

/** E.164 of a phone number of an allowed country, or 400 (`INVALID_PHONE` / `PHONE_NOT_ALLOWED`). */
export function allowedPhone(input: string, phone: ResolvedArrafAuthOptions['phone']): string {
  const { e164, country } = parsePhone(input, phone.defaultCountry);
  const allowed = phone.allowedCountries;
  if (allowed && (country === undefined || !allowed.includes(country)))
    throw new ArrafAuthException('PHONE_NOT_ALLOWED');
  return e164;
}
