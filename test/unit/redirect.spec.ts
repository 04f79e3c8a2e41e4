import { describe, expect, it } from '@jest/globals';
import { safeRedirectTarget } from '../../src/oauth/redirect.util.js';

const TRUSTED = ['https://app.example.com', 'http://localhost:5173'];

describe('safeRedirectTarget (OAuth redirectTo)', () => {
  it.each([
    ['/', '/'],
    ['/dashboard', '/dashboard'],
    ['/dashboard?tab=billing#invoices', '/dashboard?tab=billing#invoices'],
    ['/search?q=a%20b', '/search?q=a%20b'],
    ['/a/../b', '/b'],
    ['/path with space', '/path%20with%20space'],
    ['/ملف', '/%D9%85%D9%84%D9%81'],
    ['https://app.example.com/welcome?x=1', 'https://app.example.com/welcome?x=1'],
    ['https://APP.example.com:443/x', 'https://app.example.com/x'],
    ['http://localhost:5173/cb', 'http://localhost:5173/cb'],
  ])('keeps %j as %j', (input, expected) => {
    expect(safeRedirectTarget(input, TRUSTED)).toBe(expected);
  });

  it.each([
    // other origins
    'https://evil.example',
    'https://evil.example/dashboard',
    'http://app.example.com/downgraded-scheme',
    'https://app.example.com.evil.example/',
    'https://app.example.com@evil.example/',
    'https://user:pass@app.example.com/',
    'HTTPS://EVIL.EXAMPLE',
    'https:evil.example',
    'https:/evil.example',
    ' https://evil.example',
    // protocol-relative and backslash forms
    '//evil.example',
    '//evil.example/%2e%2e',
    '///evil.example',
    '/\\evil.example',
    '\\\\evil.example',
    '\\/evil.example',
    '/\\/evil.example',
    // dot segments that resolve to a protocol-relative URL
    '/..//evil.example',
    '/.//evil.example',
    '/%2e%2e//evil.example',
    '/%2E%2E//evil.example',
    '/%2e//evil.example',
    '/.%2e//evil.example',
    '/a/..//evil.example',
    '/a/b/../..//evil.example',
    '/../..//evil.example/x?y=1',
    '/./%2e%2e/.//evil.example',
    '/..%2f/evil.example',
    '/../%2fevil.example',
    '/..\\/evil.example',
    // other schemes
    'javascript:alert(1)',
    'JavaScript:alert(document.cookie)',
    'java\tscript:alert(1)',
    'data:text/html,<script>alert(1)</script>',
    'vbscript:msgbox(1)',
    'file:///etc/passwd',
    // encoded variants (decoded once more by a proxy or the application)
    '%2F%2Fevil.example',
    '/%2F%2Fevil.example',
    '/%2Fevil.example',
    '/%5Cevil.example',
    '/%255Cevil.example',
    '/%252F%252Fevil.example',
    '%2f%2fevil.example',
    'https%3A%2F%2Fevil.example',
    '/%E0%A4%A',
    // control characters and invisible spaces
    '/\t/evil.example',
    '/%09/evil.example',
    '/\n/evil.example',
    '/\r\n/evil.example',
    '/\u0000/evil.example',
    '/%00/evil.example',
    '\u0000//evil.example',
    '/\u200b/evil.example',
    '/\ufeff/evil.example',
    // not a path at all
    'evil.example',
    'dashboard',
    '',
    '?next=/x',
    '#/x',
  ])('refuses %j (falls back to /)', (input) => {
    expect(safeRedirectTarget(input, TRUSTED)).toBe('/');
  });

  it('refuses anything that is not a single string, and very long values', () => {
    for (const input of [undefined, null, 42, true, ['/a', '/b'], { url: '/a' }, `/${'a'.repeat(2000)}`]) {
      expect(safeRedirectTarget(input, TRUSTED)).toBe('/');
    }
  });

  it('refuses every absolute URL when no origin is trusted', () => {
    expect(safeRedirectTarget('https://app.example.com/x', [])).toBe('/');
    expect(safeRedirectTarget('/x', [])).toBe('/x');
  });
});

describe('safeRedirectTarget is sound on its own (no second check needed)', () => {
  it('never returns a value a browser reads as another host, whatever the dot segments', () => {
    const segments = ['', '.', '..', '%2e', '%2e%2e', '%2E%2E', '.%2e', 'a'];
    for (const first of segments)
      for (const second of segments)
        for (const tail of ['//evil.example', '/%2f/evil.example', '//evil.example/x?y=1']) {
          const input = `/${first}/${second}${tail}`;
          const output = safeRedirectTarget(input, TRUSTED);
          // Where the browser would go from https://app.example.com: it must stay on this origin.
          expect([input, new URL(output, 'https://app.example.com/').origin]).toEqual([
            input,
            'https://app.example.com',
          ]);
          expect([input, output.startsWith('//')]).toEqual([input, false]);
          // Idempotent: checking the result again changes nothing.
          expect([input, safeRedirectTarget(output, TRUSTED)]).toEqual([input, output]);
        }
  });
});
