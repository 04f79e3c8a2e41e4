import { Logger } from '@nestjs/common';
import {
  callVendor,
  e164Digits,
  type HttpSmsProviderOptions,
  providerOptions,
  requiredString,
  resolveBaseUrl,
  resolveTimeout,
  sendFailed,
  vendorReason,
} from './http-sms.util.js';
import type { SmsMessage, SmsProvider, SmsSendResult } from './sms-provider.interface.js';

/** Options of {@link TaqnyatSmsProvider}. */
export interface TaqnyatSmsProviderOptions extends HttpSmsProviderOptions {
  /** The application's bearer token (Taqnyat portal → Developer → Application). */
  bearerToken: string;
  /** An active sender name of the account. */
  sender: string;
}

const VENDOR = 'Taqnyat';

/**
 * Sends codes with Taqnyat's REST API: `POST {baseUrl}/v1/messages` with `Authorization: Bearer <token>`
 * and JSON `{ recipients: ['966…'], body, sender }` (numbers in international format without 00 or +);
 * a send answers 201 `{ statusCode: 201, messageId, accepted, rejected, ... }`.
 * Sources: https://dev.taqnyat.sa/en/doc/sms/ and Taqnyat's own client, github.com/taqnyat/python.
 *
 * @example new TaqnyatSmsProvider({ bearerToken: process.env.TAQNYAT_TOKEN!, sender: 'MyApp' })
 */
export class TaqnyatSmsProvider implements SmsProvider {
  private readonly logger = new Logger(TaqnyatSmsProvider.name);
  private readonly bearerToken: string;
  private readonly sender: string;
  private readonly url: string;
  private readonly timeoutMs: number;

  constructor(options: TaqnyatSmsProviderOptions) {
    const opts = providerOptions(TaqnyatSmsProvider.name, options);
    this.bearerToken = requiredString(TaqnyatSmsProvider.name, 'bearerToken', opts.bearerToken);
    this.sender = requiredString(TaqnyatSmsProvider.name, 'sender', opts.sender);
    this.url = `${resolveBaseUrl(TaqnyatSmsProvider.name, opts.baseUrl, 'https://api.taqnyat.sa')}/v1/messages`;
    this.timeoutMs = resolveTimeout(TaqnyatSmsProvider.name, opts.timeoutMs);
  }

  async send({ to, message }: SmsMessage): Promise<SmsSendResult> {
    const recipient = e164Digits(to);
    if (!recipient) return sendFailed(this.logger, VENDOR, to, 'recipient is not an E.164 number');
    const reply = await callVendor(
      this.url,
      {
        method: 'POST',
        headers: {
          Accept: 'application/json',
          Authorization: `Bearer ${this.bearerToken}`,
          'Content-Type': 'application/json',
        },
        body: JSON.stringify({ recipients: [recipient], body: message, sender: this.sender }),
      },
      this.timeoutMs,
    );
    if ('failure' in reply) return sendFailed(this.logger, VENDOR, to, reply.failure);

    const body = (typeof reply.body === 'object' && reply.body !== null ? reply.body : {}) as {
      statusCode?: unknown;
      message?: unknown;
      messageId?: unknown;
      rejected?: unknown;
    };
    const detail = vendorReason(body.message, [this.bearerToken]);
    // Taqnyat repeats the HTTP status in `statusCode`; either one outside 2xx is a refusal.
    const vendorStatus = typeof body.statusCode === 'number' ? body.statusCode : reply.status;
    if (reply.status < 200 || reply.status > 299 || vendorStatus < 200 || vendorStatus > 299) {
      const status = reply.status < 200 || reply.status > 299 ? reply.status : vendorStatus;
      return sendFailed(this.logger, VENDOR, to, `HTTP ${status}${detail ? ` ${detail}` : ''}`);
    }
    // `rejected` lists the numbers Taqnyat would not send to, as a string like "[966500000000,]".
    if (String(body.rejected ?? '').includes(recipient)) {
      return sendFailed(this.logger, VENDOR, to, 'recipient rejected');
    }
    if (body.messageId === undefined || body.messageId === null) {
      return sendFailed(this.logger, VENDOR, to, 'unexpected response');
    }
    return { success: true, messageId: String(body.messageId) };
  }
}
