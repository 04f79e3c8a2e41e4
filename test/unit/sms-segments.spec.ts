import { describe, expect, it } from '@jest/globals';
import { findLink, smsSegments } from '../../src/sms/sms-segments.js';

describe('smsSegments', () => {
  it.each([
    ['a Latin text of 160 characters is one GSM-7 part', 'a'.repeat(160), 'GSM-7', 160, 1],
    ['161 Latin characters are two parts of 153', 'a'.repeat(161), 'GSM-7', 161, 2],
    ['306 Latin characters are two parts, 307 three', 'a'.repeat(307), 'GSM-7', 307, 3],
    ['extension characters (€ [ ]) count twice', '€'.repeat(80), 'GSM-7', 160, 1],
    ['81 euro signs no longer fit one part', '€'.repeat(81), 'GSM-7', 162, 2],
    ['an Arabic text of 70 characters is one UCS-2 part', 'ر'.repeat(70), 'UCS-2', 70, 1],
    ['71 Arabic characters are two parts of 67', 'ر'.repeat(71), 'UCS-2', 71, 2],
    ['135 Arabic characters are three parts', 'ر'.repeat(135), 'UCS-2', 135, 3],
    ['one Arabic letter turns a Latin text into UCS-2', `${'a'.repeat(69)}ر`, 'UCS-2', 70, 1],
    ['an emoji takes two UCS-2 units', '🙂'.repeat(35), 'UCS-2', 70, 1],
  ])('%s', (_name, text, encoding, units, segments) => {
    expect(smsSegments(text)).toEqual({ encoding, units, segments });
  });

  it('counts the default Arabic code message in one part', () => {
    const text = 'رمز التحقق لـ Arraf: 123456\nصالح لمدة 5 دقائق. لا تشاركه مع أحد.';
    expect(smsSegments(text)).toEqual({ encoding: 'UCS-2', units: text.length, segments: 1 });
  });
});

describe('findLink', () => {
  it.each([
    ['Code 123456 https://x.sa/a', 'https://x.sa/a'],
    ['Code 123456 www.example.com', 'www.example.com'],
    ['Code 123456 example.sa/help', 'example.sa/help'],
    ['رمز التحقق: 123456. صالح 5 دقائق.', undefined],
    ['Your Arraf code is 123456. It expires in 5 minutes.', undefined],
  ])('%s → %s', (text, link) => {
    expect(findLink(text)).toBe(link);
  });
});
