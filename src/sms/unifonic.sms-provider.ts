import { Logger } from '@nestjs/common';
import {
  callVendor,
  e164Digits,
  type HttpSmsProviderOptions,
  optionalString,
  providerOptions,
  requiredString,
  resolveBaseUrl,
  resolveTimeout,
  sendFailed,
  vendorReason,
} from './http-sms.util.js';
import type { SmsMessage, SmsProvider, SmsSendResult } from './sms-provider.interface.js';

/** Options of {@link UnifonicSmsProvider}. */
export interface UnifonicSmsProviderOptions extends HttpSmsProviderOptions {
  /** The SMS application's AppSid from Unifonic Cloud. */
  appSid: string;
  /** A registered sender name. @default the account's default sender */
  senderId?: string;
}

const VENDOR = 'Unifonic';

/**
 * Sends codes with Unifonic's Messages API: `POST {baseUrl}/rest/SMS/messages`, form-encoded
 * `AppSid`, `SenderID`, `Recipient` (international digits without + or 00), `Body`, `responseType=JSON`;
 * the answer is `{ success, message, errorCode, data: { MessageID, Status } }`.
 * Source: https://docs.unifonic.com/docs/sending-your-first-sms-via-unifonic-api
 *
 * @example new UnifonicSmsProvider({ appSid: process.env.UNIFONIC_APP_SID!, senderId: 'MyApp' })
 */
export class UnifonicSmsProvider implements SmsProvider {
  private readonly logger = new Logger(UnifonicSmsProvider.name);
  private readonly appSid: string;
  private readonly senderId: string | undefined;
  private readonly url: string;
  private readonly timeoutMs: number;

  constructor(options: UnifonicSmsProviderOptions) {
    const opts = providerOptions(UnifonicSmsProvider.name, options);
    this.appSid = requiredString(UnifonicSmsProvider.name, 'appSid', opts.appSid);
    this.senderId = optionalString(UnifonicSmsProvider.name, 'senderId', opts.senderId);
    this.url = `${resolveBaseUrl(UnifonicSmsProvider.name, opts.baseUrl, 'https://el.cloud.unifonic.com')}/rest/SMS/messages`;
    this.timeoutMs = resolveTimeout(UnifonicSmsProvider.name, opts.timeoutMs);
  }

  async send({ to, message }: SmsMessage): Promise<SmsSendResult> {
    const recipient = e164Digits(to);
    if (!recipient) return sendFailed(this.logger, VENDOR, to, 'recipient is not an E.164 number');
    const form = new URLSearchParams({ AppSid: this.appSid });
    if (this.senderId) form.set('SenderID', this.senderId);
    form.set('Recipient', recipient);
    form.set('Body', message);
    form.set('responseType', 'JSON');
    const reply = await callVendor(
      this.url,
      {
        method: 'POST',
        headers: { Accept: 'application/json', 'Content-Type': 'application/x-www-form-urlencoded' },
        body: form.toString(),
      },
      this.timeoutMs,
    );
    if ('failure' in reply) return sendFailed(this.logger, VENDOR, to, reply.failure);

    const body = (typeof reply.body === 'object' && reply.body !== null ? reply.body : {}) as {
      success?: unknown;
      message?: unknown;
      errorCode?: unknown;
      data?: { MessageID?: unknown; Status?: unknown } | null;
    };
    const detail = [vendorReason(body.errorCode, [this.appSid]), vendorReason(body.message, [this.appSid])]
      .filter(Boolean)
      .join(' ');
    if (reply.status < 200 || reply.status > 299) {
      return sendFailed(this.logger, VENDOR, to, `HTTP ${reply.status}${detail ? ` ${detail}` : ''}`);
    }
    // The docs show `success` both as a boolean (single send) and as the string "true" (bulk send).
    if (body.success !== true && body.success !== 'true') {
      return sendFailed(this.logger, VENDOR, to, detail || 'unexpected response');
    }
    const status = body.data?.Status;
    if (status === 'Rejected' || status === 'Failed') {
      return sendFailed(this.logger, VENDOR, to, `message ${status.toLowerCase()}`);
    }
    const id = body.data?.MessageID;
    return { success: true, messageId: id === undefined || id === null ? undefined : String(id) };
  }
}
