const MAX_REDIRECT_LENGTH = 1024;
const MAX_DECODE_ROUNDS = 5;
// Control characters (browsers drop tabs and newlines inside URLs, so `/\t/evil.example` becomes
// `//evil.example`), invisible Unicode spaces, and backslashes (browsers read `\` as `/` in http(s)
// URLs, so `/\evil.example` means `//evil.example`). Plain spaces are fine: the result is re-encoded.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u00a0\u1680\u2000-\u200f\u2028-\u202f\u205f-\u206f\u3000\ufeff\\]/;
const BASE = 'https://redirect-check.invalid';

/** Every form `value` takes when decoded again and again, or `undefined` when a round fails to decode. */
function decodedForms(value: string): string[] | undefined {
  const forms = [value];
  let current = value;
  for (let round = 0; round < MAX_DECODE_ROUNDS && current.includes('%'); round++) {
    try {
      current = decodeURIComponent(current);
    } catch {
      return undefined;
    }
    forms.push(current);
  }
  return current.includes('%') && forms.length > MAX_DECODE_ROUNDS ? undefined : forms;
}

/** A same-site path, also once its dot segments are resolved (`/..//host` resolves to `//host`). */
function isSafeRelativeForm(form: string): boolean {
  if (!form.startsWith('/') || form.startsWith('//') || UNSAFE.test(form)) return false;
  try {
    const url = new URL(form, BASE);
    return url.origin === BASE && !url.pathname.startsWith('//');
  } catch {
    return false;
  }
}

/**
 * Where to send the browser after an OAuth sign-in: `value` when it is a path on this site
 * (`/dashboard?tab=1`; not `//host`, `/\host`, nor any encoded form of those) or an http(s) URL on
 * an origin in `trustedOrigins` (which includes `appUrl`); `'/'` for anything else, such as
 * `https://evil.example`, `//evil.example`, `/\evil.example` or `javascript:alert(1)`.
 *
 * @example safeRedirectTarget('/welcome', ['https://app.example.com']) // '/welcome'
 */
export function safeRedirectTarget(value: unknown, trustedOrigins: readonly string[]): string {
  if (typeof value !== 'string' || value === '' || value.length > MAX_REDIRECT_LENGTH) return '/';
  const forms = decodedForms(value);
  if (!forms) return '/';

  if (value.startsWith('/')) {
    // Every decoded form must stay a same-site path too: proxies and applications decode again.
    if (!forms.every(isSafeRelativeForm)) return '/';
    let url: URL;
    try {
      url = new URL(value, BASE);
    } catch {
      return '/';
    }
    if (url.origin !== BASE) return '/';
    // Resolving dot segments can itself produce `//host` (`/..//evil.example`, `/%2e%2e//evil.example`):
    // the result must pass the same test as the input, in every decoded form, or it is not used.
    const target = `${url.pathname}${url.search}${url.hash}`;
    return decodedForms(target)?.every(isSafeRelativeForm) ? target : '/';
  }

  if (forms.some((form) => UNSAFE.test(form))) return '/';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return '/';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return '/';
  if (url.username !== '' || url.password !== '') return '/';
  return trustedOrigins.includes(url.origin) ? url.href : '/';
}
