import type { Logger } from '@nestjs/common';
import { maskPhone } from '../phone/normalize-phone.js';
import type { SmsSendResult } from './sms-provider.interface.js';

/** Options every HTTP SMS provider accepts besides its credentials. */
export interface HttpSmsProviderOptions {
  /** Origin of the vendor's API, or of a proxy in front of it (tests, egress gateways). @default the vendor's */
  baseUrl?: string;
  /** Give up on the vendor after this many milliseconds and report a failed send. @default 10000 */
  timeoutMs?: number;
}

/** What a vendor call produced: its HTTP answer (body parsed as JSON when it is JSON), or why there was none. */
export type VendorReply = { status: number; body: unknown } | { failure: string };

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

/** `+966551234567` → `966551234567`, the form Saudi vendors want; `undefined` when `to` is not E.164. */
export function e164Digits(to: unknown): string | undefined {
  return typeof to === 'string' && /^\+[1-9]\d{6,14}$/.test(to) ? to.slice(1) : undefined;
}

/**
 * Calls a vendor with `fetch` and never throws: network errors, timeouts and unreadable bodies
 * become `{ failure }`. Redirects are refused so credentials in the body or headers are never
 * replayed to another host.
 */
export async function callVendor(url: string, init: RequestInit, timeoutMs: number): Promise<VendorReply> {
  try {
    const response = await fetch(url, { ...init, redirect: 'error', signal: AbortSignal.timeout(timeoutMs) });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      // Not JSON (an HTML error page from a proxy, say): keep the text for the reason.
    }
    return { status: response.status, body };
  } catch (error) {
    // Duck-typed, not `instanceof Error`: fetch's errors come from another realm under VM-based runners.
    const { name, cause } = (typeof error === 'object' && error !== null ? error : {}) as {
      name?: unknown;
      cause?: { code?: unknown; message?: unknown } | null;
    };
    if (name === 'TimeoutError' || name === 'AbortError') return { failure: `timed out after ${timeoutMs} ms` };
    const detail =
      typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : '';
    return { failure: detail ? `network error (${detail})` : 'network error' };
  }
}

/**
 * A vendor's own words, made safe to log and return: the configured secrets and every run of six or
 * more digits (phone numbers, the code itself, which some vendors echo back) are masked, and the
 * text is cut short.
 */
export function vendorReason(text: unknown, secrets: readonly string[]): string {
  if (typeof text !== 'string' && typeof text !== 'number') return '';
  let reason = String(text);
  for (const secret of secrets) if (secret) reason = reason.split(secret).join('[redacted]');
  reason = reason
    .replace(/\+?\d(?:[\s-]?\d){5,}/g, '[redacted]')
    .replace(/\s+/g, ' ')
    .trim();
  return reason.length > 120 ? `${reason.slice(0, 117)}...` : reason;
}

/** Logs a failed send with the masked number only, and returns the `{ success: false }` result. */
export function sendFailed(logger: Logger, vendor: string, to: unknown, reason: string): SmsSendResult {
  const recipient = e164Digits(to) ? maskPhone(to as string) : 'an invalid number';
  logger.error(`${vendor} could not send an SMS to ${recipient}: ${reason}`);
  return { success: false, error: `${vendor}: ${reason}` };
}
