import { type CountryCode, parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { ArrafAuthException } from '../errors/arraf-auth.exception.js';

/** Arabic-Indic (٠-٩) and Eastern Arabic-Indic (۰-۹) digits, as typed on Arabic and Persian keyboards. */
const ARABIC_DIGITS = /[\u0660-\u0669\u06F0-\u06F9]/g;

/**
 * Invisible direction and joiner marks (LRM, RLM, ALM, LRE…PDF, LRI…PDI, ZWSP…, BOM). Numbers copied
 * from contacts or chats in an Arabic interface usually carry them, and a person cannot see or
 * delete them, so they are dropped instead of making the number "invalid".
 */
const INVISIBLE_MARKS = /[\u061C\u200B-\u200F\u202A-\u202E\u2060\u2066-\u2069\uFEFF]/g;

/** Replaces Arabic-Indic digits with ASCII digits; leaves everything else as it is. */
export function toAsciiDigits(input: string): string {
  return input.replace(ARABIC_DIGITS, (d) => String((d.codePointAt(0)! - 0x0660) % 0x90));
}

/** The result of {@link parsePhone}: E.164 and the number's country. */
export interface ParsedPhone {
  e164: string;
  country: string | undefined;
}

/**
 * Parses a mobile number typed by a person into E.164 with libphonenumber-js, accepting the
 * Saudi forms `05XXXXXXXX`, `5XXXXXXXX`, `9665…`, `009665…`, `+9665…`, spaces, dashes,
 * parentheses and Arabic-Indic digits. Throws 400 `INVALID_PHONE` for anything that is not a
 * valid mobile number (landlines cannot receive SMS codes).
 */
export function parsePhone(input: unknown, defaultCountry = 'SA'): ParsedPhone {
  if (typeof input !== 'string' || input.length === 0 || input.length > 32)
    throw new ArrafAuthException('INVALID_PHONE');
  let text = toAsciiDigits(input.replace(INVISIBLE_MARKS, '')).trim();
  // ASCII digits only after the Arabic-Indic mapping: fullwidth (０-９) and other scripts' digits are
  // not typed by phone keyboards, so they are refused rather than guessed at.
  if (!/^[+\d\s\-().]+$/.test(text)) throw new ArrafAuthException('INVALID_PHONE');
  text = text.replace(/[\s\-().]/g, '');
  if (text.startsWith('00')) text = `+${text.slice(2)}`;
  let parsed = parsePhoneNumberFromString(text, String(defaultCountry).toUpperCase() as CountryCode);
  // `9665XXXXXXXX` without + or 00: an international number typed without its prefix.
  if ((!parsed || !parsed.isValid()) && !text.startsWith('+')) parsed = parsePhoneNumberFromString(`+${text}`);
  if (!parsed || !parsed.isValid()) throw new ArrafAuthException('INVALID_PHONE');
  const type = parsed.getType();
  if (type !== 'MOBILE' && type !== 'FIXED_LINE_OR_MOBILE') throw new ArrafAuthException('INVALID_PHONE');
  return { e164: parsed.number, country: parsed.country };
}

/**
 * Normalises a phone number to E.164 (`+966551234567`), or throws 400 `INVALID_PHONE`.
 *
 * @example normalizePhone('055 123 4567') === '+966551234567'
 */
export function normalizePhone(input: string, defaultCountry = 'SA'): string {
  return parsePhone(input, defaultCountry).e164;
}

/** `+966551234567` → `+9665****4567`: the country code and first digit, then the last four. */
export function maskPhone(e164: string): string {
  const parsed = parsePhoneNumberFromString(e164);
  const cc = parsed ? `+${parsed.countryCallingCode}` : e164.slice(0, 4);
  const national = e164.slice(cc.length);
  if (national.length <= 5) return `${cc}${'*'.repeat(national.length)}`;
  return `${cc}${national[0]}${'*'.repeat(national.length - 5)}${national.slice(-4)}`;
}
