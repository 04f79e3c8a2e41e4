// Checks of a provider's options. A provider is built at boot, so a problem stops the application
// with a message naming the provider and the option.

const DEFAULT_TIMEOUT_MS = 10_000;

/** Checks a provider's options object and returns it; a provider is built at boot, so problems stop the app. */
export function providerOptions<T extends object>(provider: string, options: T | undefined): T {
  if (typeof options !== 'object' || options === null) throw new Error(`${provider}: options are required`);
  return options;
}

/** A required non-empty string option; the error names the option so the misconfiguration is obvious at boot. */
export function requiredString(provider: string, name: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new Error(`${provider}: option "${name}" is required (a non-empty string)`);
  }
  return value;
}

/** An optional string option: absent, or a non-empty string. */
export function optionalString(provider: string, name: string, value: unknown): string | undefined {
  return value === undefined ? undefined : requiredString(provider, name, value);
}

/**
 * `whatsapp.receiptToken`: the secret path segment of the receipt URL set in the vendor's console,
 * at least 32 URL-safe characters so it cannot be guessed (e.g. `openssl rand -hex 32`).
 */
export function receiptTokenOption(provider: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^[A-Za-z0-9_-]{32,128}$/.test(value)) {
    throw new Error(
      `${provider}: option "whatsapp.receiptToken" must be 32 to 128 letters, digits, "-" or "_" (e.g. openssl rand -hex 32)`,
    );
  }
  return value;
}

/** `baseUrl` as an http(s) URL without a trailing slash, so paths can be appended. */
export function resolveBaseUrl(provider: string, value: unknown, fallback: string): string {
  if (value === undefined) return fallback;
  let url: URL | undefined;
  try {
    url = typeof value === 'string' ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:') || url.search || url.hash) {
    throw new Error(`${provider}: option "baseUrl" must be an http(s) URL such as "${fallback}"`);
  }
  return url.href.replace(/\/+$/, '');
}

/** `timeoutMs` as a positive whole number of milliseconds. */
export function resolveTimeout(provider: string, value: unknown): number {
  if (value === undefined) return DEFAULT_TIMEOUT_MS;
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new Error(`${provider}: option "timeoutMs" must be a positive whole number of milliseconds`);
  }
  return value;
}

/**
 * The one option given among two alternatives (a sender number or a messaging service, say), as
 * `[name, value]`; neither or both stop the boot.
 */
export function exactlyOne(provider: string, options: Record<string, unknown>): [name: string, value: string] {
  const given = Object.entries(options).filter(([, value]) => value !== undefined);
  if (given.length !== 1) {
    const names = Object.keys(options).map((name) => `"${name}"`);
    throw new Error(`${provider}: give exactly one of the options ${names.join(' and ')}`);
  }
  const [name, value] = given[0];
  return [name, requiredString(provider, name, value)];
}
