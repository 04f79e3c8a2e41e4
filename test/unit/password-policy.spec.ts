import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import argon2 from 'argon2';
import { normalizeEmail } from '../../src/auth/email.util.js';
import { ArrafAuthException } from '../../src/errors/arraf-auth.exception.js';
import { resolveArrafAuthOptions } from '../../src/options/arraf-auth-options.resolver.js';
import { preferredLocale } from '../../src/password/password.controller.js';
import { contextWords, findPasswordProblem, maxPasswordBytes } from '../../src/password/password-policy.js';
import { PasswordHasher } from '../../src/password/password-hasher.js';
import { PasswordService } from '../../src/password/password.service.js';
import { TEST_SECRET } from '../apps/test-app.js';

function refusalCode(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ArrafAuthException);
    return (error as ArrafAuthException).code;
  }
  return 'accepted';
}

/** A PasswordService for hashing only: the flows' collaborators are not needed here. */
function passwordService(password: { minLength?: number; maxLength?: number } = {}): PasswordService {
  const options = resolveArrafAuthOptions({ secret: TEST_SECRET, password });
  const none = null as never;
  return new PasswordService(
    options,
    none,
    none,
    none,
    none,
    none,
    new PasswordHasher(options),
    none,
    none,
    none,
    none,
    none,
  );
}

describe('normalizeEmail', () => {
  it.each([
    ['lower-cases and trims', '  Ali.Baba@Example.COM ', 'ali.baba@example.com'],
    ['applies NFKC before checking (fullwidth letters and @)', 'ａｌｉ＠ｅｘａｍｐｌｅ．ｃｏｍ', 'ali@example.com'],
    ['keeps accents (exact, not folded)', 'José@Example.com', 'josé@example.com'],
    ['composes a decomposed accent', 'Jose\u0301@example.com', 'josé@example.com'],
    ['keeps plus tags and apostrophes', "o'neil+news@example.co.uk", "o'neil+news@example.co.uk"],
    ['accepts an Arabic domain', 'info@مثال.السعودية', 'info@مثال.السعودية'],
    ['keeps an IDN domain in its Unicode form', 'a@bücher.de', 'a@bücher.de'],
    ['decodes a punycode (A-label) domain to the same address', 'a@xn--bcher-kva.de', 'a@bücher.de'],
    ['decodes an upper-case A-label', 'A@XN--BCHER-KVA.DE', 'a@bücher.de'],
    ['decodes an Arabic A-label domain', 'info@xn--mgbh0fb.xn--mgberp4a5d4ar', 'info@مثال.السعودية'],
    ['accepts 254 characters', `${'a'.repeat(64)}@${'b'.repeat(61)}.${'c'.repeat(61)}.${'d'.repeat(61)}.com`, null],
  ])('%s', (_label, input, expected) => {
    expect(normalizeEmail(input)).toBe(expected ?? input);
  });

  it.each([
    ['a fullwidth @ that makes two', 'a＠evil.com@x.com'],
    ['a small commercial at (U+FE6B) that makes two', 'a\uFE6Bevil.com@x.com'],
    ['two @', 'a@b@example.com'],
    ['a comma list', 'a@x.com,b@y.com'],
    ['a fullwidth comma list', 'a@x.com，b@y.com'],
    ['a semicolon list', 'a@x.com;b@y.com'],
    ['a quoted local part', '"e@evil.com"@x.com'],
    ['a quoted local part without @', '"ali"@x.com'],
    ['angle brackets', '<ali@x.com>'],
    ['a display name', 'Ali <ali@x.com>'],
    ['a space', 'ali baba@x.com'],
    ['a newline (header injection)', 'ali@x.com\r\nBcc: eve@y.com'],
    ['a zero-width space', 'ali\u200B@x.com'],
    ['a right-to-left override', 'ali\u202E@x.com'],
    ['parentheses (a comment)', 'ali(comment)@x.com'],
    ['a backslash', 'al\\i@x.com'],
    ['no dot in the domain', 'ali@localhost'],
    ['a numeric top level', 'ali@10.0.0.1'],
    ['a domain literal', 'ali@[10.0.0.1]'],
    ['an empty label', 'ali@x..com'],
    ['invalid punycode', 'ali@xn--zz.de'],
    ['an empty punycode label', 'ali@xn--.de'],
    ['a Unicode label over 63 octets once encoded', `ali@${'ü'.repeat(60)}.de`],
    ['a label starting with a hyphen', 'ali@-x.com'],
    ['a leading dot', '.ali@x.com'],
    ['two dots', 'al..i@x.com'],
    ['an empty local part', '@x.com'],
    ['a 65-character local part', `${'a'.repeat(65)}@x.com`],
    ['255 characters', `${'a'.repeat(64)}@${'b'.repeat(61)}.${'c'.repeat(61)}.${'d'.repeat(61)}.comm`],
    ['an empty string', ''],
    ['a number', 42],
    ['an array', ['a@x.com']],
  ])('refuses %s with INVALID_EMAIL', (_label, input) => {
    expect(refusalCode(() => normalizeEmail(input))).toBe('INVALID_EMAIL');
  });
});

describe('password rules', () => {
  const rules = { minLength: 8, maxLength: 64 };

  it.each([
    ['7 code points', 'éàüöñç√', 'PASSWORD_TOO_SHORT'],
    ['8 code points', 'éàüöñç√ß', null],
    ['8 emoji (16 UTF-16 units)', '🍎🍊🍋🍉🍇🍓🫐🥝', null],
    ['7 emoji', '🍎🍊🍋🍉🍇🍓🫐', 'PASSWORD_TOO_SHORT'],
    ['64 code points', 'correct horse battery staple '.repeat(3).slice(0, 64), null],
    ['65 code points', 'correct horse battery staple '.repeat(3).slice(0, 65), 'PASSWORD_TOO_LONG'],
    ['a list password in capitals', 'PRINCESS', 'PASSWORD_TOO_COMMON'],
    ['a list password with a year', 'princess2024', 'PASSWORD_TOO_COMMON'],
    ['digits only from the list', '12345678', 'PASSWORD_TOO_COMMON'],
    ['one symbol repeated', '!!!!!!!!!!', 'PASSWORD_TOO_PREDICTABLE'],
    ['a two-character pattern', 'ababababab', 'PASSWORD_TOO_PREDICTABLE'],
    ['a descending sequence', 'zyxwvutsrq', 'PASSWORD_TOO_PREDICTABLE'],
    ['a passphrase with spaces', 'correct horse battery staple', null],
    ['Arabic words', 'كلمة سر طويلة وآمنة', null],
  ])('%s → %s', (_label, password, expected) => {
    expect(findPasswordProblem(password.normalize('NFKC'), rules)).toBe(expected);
  });

  it('refuses passwords built on the email, name or app name, and accepts them standing alone', () => {
    const words = contextWords({ appName: 'Arraf', email: 'sara.q@example.com', name: 'Sara Qahtani' });
    expect(words).toEqual(expect.arrayContaining(['arraf', 'sara.q@example.com', 'sara.q', 'sara qahtani']));
    for (const password of [
      'sara.q@example.com',
      'Sara.Q2024!',
      'arraf123456',
      'sara qahtani 1990',
      'sara.q12345678',
    ]) {
      expect({ password, problem: findPasswordProblem(password, rules, words) }).toEqual({
        password,
        problem: 'PASSWORD_TOO_PREDICTABLE',
      });
    }
    for (const password of ['sara.q loves long mountain walks', 'arraf#94$82&17@x']) {
      expect({ password, problem: findPasswordProblem(password, rules, words) }).toEqual({ password, problem: null });
    }
  });

  it('caps raw input at 1,024 bytes or 4 bytes per allowed code point', () => {
    expect(maxPasswordBytes(128)).toBe(1024);
    expect(maxPasswordBytes(1024)).toBe(4096);
  });
});

describe('PasswordService hashing', () => {
  const passwords = passwordService();

  it('hashes with argon2id m=19456, t=2, p=1 and a fresh salt each time', async () => {
    const [first, second] = await Promise.all([passwords.hash('correct horse'), passwords.hash('correct horse')]);
    for (const hash of [first, second]) {
      const [, algorithm, version, params] = hash.split('$');
      expect({ algorithm, version, params: Object.fromEntries(params.split(',').map((kv) => kv.split('='))) }).toEqual({
        algorithm: 'argon2id',
        version: 'v=19',
        params: { m: '19456', t: '2', p: '1' },
      });
    }
    expect(first).not.toBe(second);
  });

  it('verifies the NFKC form: fullwidth and ASCII, composed and decomposed are the same password', async () => {
    const hash = await passwords.hash('ｃｏｒｒｅｃｔ ｈｏｒｓｅ café');
    expect(await passwords.verify(hash, 'correct horse cafe\u0301')).toBe(true);
    expect(await passwords.verify(hash, 'correct horse cafe')).toBe(false);
    expect(await passwords.verify(hash, 'Correct horse café')).toBe(false);
  });

  it('answers false for a malformed stored hash instead of throwing', async () => {
    expect(await passwords.verify('$2b$10$notargon', 'whatever')).toBe(false);
  });

  it('refuses to hash or verify input over the byte cap', async () => {
    await expect(passwords.hash('x'.repeat(1025))).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(
      passwords.verify('$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA', 'x'.repeat(1025)),
    ).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
  });

  it('asks for a rehash of weaker hashes only', async () => {
    const weak = await argon2.hash('pw', { type: argon2.argon2id, memoryCost: 4096, timeCost: 1, parallelism: 1 });
    const argon2i = await argon2.hash('pw', { type: argon2.argon2i, memoryCost: 19456, timeCost: 2, parallelism: 1 });
    const stronger = await argon2.hash('pw', { type: argon2.argon2id, memoryCost: 65536, timeCost: 3, parallelism: 1 });
    expect({
      current: passwords.needsRehash(await passwords.hash('pw')),
      weak: passwords.needsRehash(weak),
      argon2i: passwords.needsRehash(argon2i),
      referenceOrder: passwords.needsRehash('$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA'),
      oldVersion: passwords.needsRehash('$argon2id$v=16$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA'),
      stronger: passwords.needsRehash(stronger),
      bcrypt: passwords.needsRehash('$2b$10$abcdefghijklmnopqrstuv'),
    }).toEqual({
      current: false,
      weak: true,
      argon2i: true,
      referenceOrder: false,
      oldVersion: true,
      stronger: false,
      bcrypt: true,
    });
  });

  it('applies minLength and maxLength from the options', () => {
    const strict = passwordService({ minLength: 15, maxLength: 64 });
    expect(refusalCode(() => strict.checkNewPassword('purple elephant'.slice(0, 14)))).toBe('PASSWORD_TOO_SHORT');
    expect(refusalCode(() => strict.checkNewPassword('purple elephant'))).toBe('accepted');
    expect(refusalCode(() => strict.checkNewPassword('x'.repeat(5000)))).toBe('PASSWORD_TOO_LONG');
  });
});

describe('preferredLocale', () => {
  const of = (value?: string) => preferredLocale({ method: 'POST', headers: { 'accept-language': value } });

  it.each([
    [undefined, undefined],
    ['en', 'en'],
    ['ar-SA', 'ar'],
    ['en-GB,en;q=0.9,ar;q=0.8', 'en'],
    ['fr-FR,ar;q=0.5,en;q=0.4', 'ar'],
    ['de, fr', undefined],
    ['en;q=0, ar;q=0.1', 'ar'],
  ])('%s → %s', (header, expected) => {
    expect(of(header)).toBe(expected);
  });
});
