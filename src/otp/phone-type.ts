import { type CountryCode, parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { ArrafAuthException } from '../errors/arraf-auth.exception.js';
import { type ParsedPhone, parsePhone, toAsciiDigits } from '../phone/normalize-phone.js';

/**
 * {@link parsePhone} for numbers that are to receive a code: a valid number that is not a mobile
 * one (fixed line, premium rate, shared cost, VoIP, toll free, …, by libphonenumber-js's number
 * type) is refused with 400 `PHONE_NOT_MOBILE` rather than `INVALID_PHONE`, so the person learns
 * what to change, and premium ranges never get a text (SMS pumping).
 */
export function parseMobile(input: unknown, defaultCountry: string): ParsedPhone {
  try {
    return parsePhone(input, defaultCountry);
  } catch (error) {
    if (typeof input === 'string' && input.length <= 32 && isValidOtherType(input, defaultCountry))
      throw new ArrafAuthException('PHONE_NOT_MOBILE');
    throw error;
  }
}

/** Whether `input` is a valid number whose type is not mobile (the forms {@link parsePhone} reads). */
function isValidOtherType(input: string, defaultCountry: string): boolean {
  let text = toAsciiDigits(input).replace(/[\s\-().\u061C\u200B-\u200F\u202A-\u202E\u2060\u2066-\u2069\uFEFF]/g, '');
  if (!/^\+?\d+$/.test(text)) return false;
  if (text.startsWith('00')) text = `+${text.slice(2)}`;
  const candidates = text.startsWith('+') ? [text] : [text, `+${text}`];
  return candidates.some((candidate) => {
    const parsed = parsePhoneNumberFromString(candidate, defaultCountry.toUpperCase() as CountryCode);
    if (!parsed?.isValid()) return false;
    const type = parsed.getType();
    return type !== 'MOBILE' && type !== 'FIXED_LINE_OR_MOBILE';
  });
}

/**
 * The prefix of an E.164 number the pumping guard counts by: the country calling code and the first
 * `digits` digits of the national number (`+966551234567`, 2 → `+96655`).
 */
export function numberPrefix(e164: string, digits: number): string {
  const parsed = parsePhoneNumberFromString(e164);
  if (!parsed) return e164.slice(0, 4 + digits);
  return `+${parsed.countryCallingCode}${parsed.nationalNumber.slice(0, digits)}`;
}
