import { describe, expect, it } from '@jest/globals';
import { ArrafAuthException } from '../../src/errors/arraf-auth.exception.js';
import { maskPhone, normalizePhone, parsePhone, toAsciiDigits } from '../../src/phone/normalize-phone.js';

/** The error a refused input must produce: 400 `INVALID_PHONE`, never a TypeError or a libphonenumber error. */
function refusal(run: () => unknown): ArrafAuthException {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ArrafAuthException);
    return error as ArrafAuthException;
  }
  throw new Error('expected the input to be refused');
}

describe('normalizePhone', () => {
  // Every Saudi way of writing the same mobile number, as people type or paste it.
  it.each([
    ['local with trunk 0', '0551234567'],
    ['local without trunk 0', '551234567'],
    ['country code without + or 00', '966551234567'],
    ['00 international prefix', '00966551234567'],
    ['+ international prefix', '+966551234567'],
    ['local with spaces', '055 123 4567'],
    ['international with spaces', '+966 55 123 4567'],
    ['dashes', '055-123-4567'],
    ['international with dashes', '+966-55-123-4567'],
    ['parentheses', '(055) 123-4567'],
    ['dots', '055.123.4567'],
    ['surrounding whitespace', '  0551234567\t'],
    ['non-breaking spaces', '055\u00A0123\u00A04567'],
    ['Arabic-Indic digits', '٠٥٥١٢٣٤٥٦٧'],
    ['Eastern Arabic-Indic (Persian) digits', '۰۵۵۱۲۳۴۵۶۷'],
    ['Arabic-Indic digits with + and spaces', '+٩٦٦ ٥٥ ١٢٣ ٤٥٦٧'],
    ['Arabic-Indic digits with 00 and dashes', '٠٠٩٦٦-٥٥-١٢٣-٤٥٦٧'],
    ['left-to-right embedding marks around a pasted number', '\u202A+966 55 123 4567\u202C'],
    ['a right-to-left mark before the number', '\u200F0551234567'],
    ['an Arabic letter mark inside the number', '055\u061C1234567'],
  ])('reads %s (%j) as +966551234567', (_label, input) => {
    expect(normalizePhone(input)).toBe('+966551234567');
  });

  it.each([
    ['+966501234567', '+966501234567'],
    ['0531234567', '+966531234567'],
    ['0581234567', '+966581234567'],
    ['0591234567', '+966591234567'],
  ])('accepts the Saudi mobile prefix of %s', (input, e164) => {
    expect(normalizePhone(input)).toBe(e164);
  });

  // Real mobile ranges of each GCC country (libphonenumber-js "max" metadata types them MOBILE).
  it.each([
    ['UAE 50 with +', '+971501234567', 'SA', '+971501234567', 'AE'],
    ['UAE 55 with 00', '00971551234567', 'SA', '+971551234567', 'AE'],
    ['UAE local with its own default country', '050 123 4567', 'AE', '+971501234567', 'AE'],
    ['Kuwait 5 with +', '+96550012345', 'SA', '+96550012345', 'KW'],
    ['Kuwait 6 with 00', '0096560012345', 'SA', '+96560012345', 'KW'],
    ['Kuwait 9 with +', '+96590012345', 'SA', '+96590012345', 'KW'],
    ['Kuwait local with its own default country', '6001 2345', 'KW', '+96560012345', 'KW'],
    ['Bahrain 3 with +', '+97336001234', 'SA', '+97336001234', 'BH'],
    ['Bahrain 3 with 00', '0097333123456', 'SA', '+97333123456', 'BH'],
    ['Bahrain local with its own default country', '3600 1234', 'BH', '+97336001234', 'BH'],
    ['Qatar 3 with +', '+97433123456', 'SA', '+97433123456', 'QA'],
    ['Qatar 5 with 00', '0097455123456', 'SA', '+97455123456', 'QA'],
    ['Qatar 6 with +', '+97466123456', 'SA', '+97466123456', 'QA'],
    ['Qatar 7 with +', '+97470123456', 'SA', '+97470123456', 'QA'],
    ['Qatar local with its own default country', '5512 3456', 'QA', '+97455123456', 'QA'],
    ['Oman 9 with +', '+96891234567', 'SA', '+96891234567', 'OM'],
    ['Oman 7 with 00', '0096872123456', 'SA', '+96872123456', 'OM'],
    ['Oman local with its own default country', '9123 4567', 'OM', '+96891234567', 'OM'],
    ['a Saudi number while the default country is the UAE', '+966551234567', 'AE', '+966551234567', 'SA'],
  ])('accepts %s (%j, default %s) as %s in %s', (_label, input, defaultCountry, e164, country) => {
    expect(normalizePhone(input, defaultCountry)).toBe(e164);
    expect(parsePhone(input, defaultCountry)).toEqual({ e164, country });
  });

  it('accepts the default country in lower case', () => {
    expect(normalizePhone('0501234567', 'ae')).toBe('+971501234567');
  });

  it.each<[string, unknown]>([
    ['a Riyadh landline', '0112345678'],
    ['a Riyadh landline in international form', '+966112345678'],
    ['a Bahrain landline', '+97317123456'],
    ['a Qatar landline', '+97444123456'],
    ['an Oman landline', '+96824123456'],
    ['a Saudi shared-cost 920 number', '+966920012345'],
    ['a Saudi mobile one digit short', '055123456'],
    ['a Saudi mobile one digit long', '05512345678'],
    ['an international Saudi mobile one digit long', '+9665512345678'],
    ['a number with a letter', '+966 55 123 456a'],
    ['letters only', 'phone'],
    ['the empty string', ''],
    ['only spaces', '   '],
    ['only a plus', '+'],
    ['two plus signs', '++966551234567'],
    ['a plus inside the number', '966+551234567'],
    ['fullwidth digits', '０５５１２３４５６７'],
    ['a 50-character string', '0551234567'.repeat(5)],
    ['an emoji after the number', '0551234567📱'],
    ['an emoji instead of a digit', '055123456🔢'],
    ['an extension', '0551234567 ext 12'],
    ['a number', 551234567],
    ['null', null],
    ['undefined', undefined],
    ['an object', { phone: '0551234567' }],
    ['an array', ['0551234567']],
  ])('refuses %s with INVALID_PHONE', (_label, input) => {
    const error = refusal(() => normalizePhone(input as string));
    expect(error.code).toBe('INVALID_PHONE');
    expect(error.getStatus()).toBe(400);
  });

  it('refuses a mobile of another country typed without its country code', () => {
    // 3600 1234 is a Bahrain mobile, but read against the Saudi default it is no valid number anywhere.
    expect(refusal(() => normalizePhone('36001234')).code).toBe('INVALID_PHONE');
  });
});

describe('toAsciiDigits', () => {
  it('maps both Arabic-Indic digit sets to ASCII and leaves other characters alone', () => {
    expect(toAsciiDigits('٠١٢٣٤٥٦٧٨٩ ۰۱۲۳۴۵۶۷۸۹ +()-')).toBe('0123456789 0123456789 +()-');
  });
});

describe('maskPhone', () => {
  it('keeps the country code, the first national digit and the last four digits', () => {
    expect(maskPhone('+966551234567')).toBe('+9665****4567');
  });

  it('masks a shorter GCC number the same way', () => {
    expect(maskPhone('+97336001234')).toBe('+9733***1234');
  });
});
