import { Logger } from '@nestjs/common';
import { maskPhone } from '../phone/normalize-phone.js';
import { providerOptions, resolveBaseUrl, resolveTimeout } from './provider-options.util.js';
import type { DeliveryReceipt, OtpChannel, SmsMessage, SmsProvider, SmsSendResult } from './sms-provider.interface.js';

/** Options every HTTP SMS provider accepts besides its credentials. */
export interface HttpSmsProviderOptions {
  /** Origin of the vendor's API, or of a proxy in front of it (tests, egress gateways). @default the vendor's */
  baseUrl?: string;
  /** Give up on the vendor after this many milliseconds and report a failed send. @default 10000 */
  timeoutMs?: number;
}

/** What a vendor call produced: its HTTP answer (body parsed as JSON when it is JSON), or why there was none. */
export type VendorReply = { status: number; body: unknown } | { failure: string };

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
  logger.error(`${vendor} could not send a code to ${recipient}: ${reason}`);
  return { success: false, error: `${vendor}: ${reason}` };
}

/** The headers and body of one vendor call (always a POST to the provider's URL). */
export interface VendorRequest {
  headers: Record<string, string>;
  body: string;
}

/** What a vendor's answer means: the message id of an accepted send, or why it was refused. */
export type VendorVerdict = { messageId?: string } | { reason: string };

/**
 * A vendor's WhatsApp channel: where its authentication-template send goes, the request for one
 * code, and the reading of the answer. The vendor's SMS credentials and timeout apply alike.
 */
export interface WhatsAppEndpoint {
  url: string;
  /** The request for `code`; `locale` picks the template's language, `statusCallback` where receipts go. */
  request(to: string, recipient: string, code: string, locale: 'ar' | 'en', statusCallback?: string): VendorRequest;
  interpret(status: number, body: Record<string, unknown>, recipient: string): VendorVerdict;
}

/**
 * The shared shape of the HTTP vendors: the recipient checked as E.164, one POST through
 * {@link callVendor}, the answer judged by the vendor's {@link interpret}, and every failure logged
 * with the masked number and returned as `{ success: false }`. A vendor supplies its request and
 * the reading of its answer; its WhatsApp channel, when configured, is a {@link WhatsAppEndpoint}
 * on the same base, so a vendor with `whatsapp` options declares `channels: ['sms', 'whatsapp']`.
 */
export abstract class HttpSmsProvider implements SmsProvider {
  protected readonly logger = new Logger(this.constructor.name);
  protected readonly url: string;
  protected readonly timeoutMs: number;
  /** Set by a vendor whose `whatsapp` options were given. */
  protected whatsapp: WhatsAppEndpoint | undefined;
  /** The vendor's delivery-report reader, when its receipts can reach the module (see {@link SmsProvider}). */
  readReceipts?: (body: Record<string, unknown>) => DeliveryReceipt[];
  /** The secret of the receipt URL set in the vendor's console (`whatsapp.receiptToken`). */
  receiptToken?: string;

  /**
   * @param vendor the vendor's name in log lines and errors
   * @param options the vendor's options as given, checked here to be an object, so a vendor reads its
   * own options after `super` without checking them again
   * @param defaultBaseUrl the vendor's API origin
   * @param path the send endpoint below the base URL
   */
  protected constructor(
    protected readonly vendor: string,
    options: HttpSmsProviderOptions,
    defaultBaseUrl: string,
    path: string,
  ) {
    const { baseUrl, timeoutMs } = providerOptions(this.constructor.name, options);
    this.url = `${resolveBaseUrl(this.constructor.name, baseUrl, defaultBaseUrl)}${path}`;
    this.timeoutMs = resolveTimeout(this.constructor.name, timeoutMs);
  }

  /** `['sms', 'whatsapp']` when the vendor's WhatsApp channel is configured, otherwise `['sms']`. */
  get channels(): readonly OtpChannel[] {
    return this.whatsapp ? ['sms', 'whatsapp'] : ['sms'];
  }

  async send({
    to,
    code,
    message,
    channel = 'sms',
    locale = 'ar',
    statusCallback,
  }: SmsMessage): Promise<SmsSendResult> {
    const vendor = channel === 'whatsapp' ? `${this.vendor} WhatsApp` : this.vendor;
    const recipient = e164Digits(to);
    if (!recipient) return sendFailed(this.logger, vendor, to, 'recipient is not an E.164 number');
    const endpoint: WhatsAppEndpoint | undefined =
      channel === 'whatsapp'
        ? this.whatsapp
        : {
            url: this.url,
            request: (e164, digits) => this.request(e164, digits, message),
            interpret: (status, body, digits) => this.interpret(status, body, digits),
          };
    if (!endpoint) return sendFailed(this.logger, vendor, to, 'the WhatsApp channel is not configured');
    const { headers, body } = endpoint.request(to, recipient, code, locale, statusCallback);
    const reply = await callVendor(
      endpoint.url,
      { method: 'POST', headers: { Accept: 'application/json', ...headers }, body },
      this.timeoutMs,
    );
    if ('failure' in reply) return sendFailed(this.logger, vendor, to, reply.failure);
    const answer = (typeof reply.body === 'object' && reply.body !== null ? reply.body : {}) as Record<string, unknown>;
    const verdict = endpoint.interpret(reply.status, answer, recipient);
    if ('reason' in verdict) return sendFailed(this.logger, vendor, to, verdict.reason);
    return { success: true, messageId: verdict.messageId };
  }

  /** The vendor's request for one message; `to` is E.164 with `+`, `recipient` the same without it. */
  protected abstract request(to: string, recipient: string, message: string): VendorRequest;

  /** Reads the vendor's answer (its HTTP status and JSON body, `{}` when it had none). */
  protected abstract interpret(status: number, body: Record<string, unknown>, recipient: string): VendorVerdict;

  /** The credentials to mask if the vendor echoes them in an error. */
  protected abstract secrets(): readonly string[];

  /** The vendor's own words (codes, messages), each made safe to log, joined by spaces. */
  protected detail(...parts: unknown[]): string {
    return parts
      .map((part) => vendorReason(part, this.secrets()))
      .filter(Boolean)
      .join(' ');
  }

  /** Lets the module read the vendor's delivery reports, posted to a URL holding `receiptToken`. */
  protected acceptReceipts(
    receiptToken: string | undefined,
    reader: (body: Record<string, unknown>) => DeliveryReceipt[],
  ): void {
    if (receiptToken === undefined) return;
    this.receiptToken = receiptToken;
    this.readReceipts = reader;
  }

  /** A JSON answer read the common way: refused outside 2xx, with the vendor's `words`; else its message `id`. */
  protected verdict(status: number, words: unknown[], id: unknown): VendorVerdict {
    const refused = this.httpFailure(status, this.detail(...words));
    if (refused) return refused;
    const messageId = messageIdOf(id);
    return messageId ? { messageId } : { reason: 'unexpected response' };
  }

  /** `HTTP <status> <detail>` for a status outside 2xx, otherwise `undefined`. */
  protected httpFailure(status: number, detail: string): { reason: string } | undefined {
    if (status >= 200 && status <= 299) return undefined;
    return { reason: `HTTP ${status}${detail ? ` ${detail}` : ''}` };
  }
}

/** A vendor message id as a string, or `undefined` when the vendor sent none. */
export function messageIdOf(id: unknown): string | undefined {
  return typeof id === 'string' || typeof id === 'number' ? String(id) : undefined;
}
