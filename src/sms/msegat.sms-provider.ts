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

/** Options of {@link MsegatSmsProvider}. */
export interface MsegatSmsProviderOptions extends HttpSmsProviderOptions {
  /** The Msegat account's user name. */
  userName: string;
  /** The account's API key (not its password). */
  apiKey: string;
  /** An activated sender name (`userSender`). */
  sender: string;
}

const VENDOR = 'Msegat';

/** Msegat's success codes: "1" for sends, "M0000" for the newer endpoints; everything else is an error code. */
const SUCCESS_CODES = new Set(['1', 'M0000']);

/**
 * Sends codes with Msegat's gateway: `POST {baseUrl}/gw/sendsms.php` with JSON
 * `{ userName, numbers, userSender, apiKey, msg, msgEncoding: 'UTF8' }` (numbers in international
 * format without + or 00). Msegat answers HTTP 200 either way; the body's `code` says what happened
 * (`1` / `M0000` success, e.g. `1060` balance is not enough, `1020` invalid login info).
 * Sources: https://msegat.docs.apiary.io and the MSEGAT Communication Platform API collection
 * (https://documenter.getpostman.com/view/39158411/2sBXwqqqD2).
 *
 * @example new MsegatSmsProvider({ userName: 'me', apiKey: process.env.MSEGAT_API_KEY!, sender: 'MyApp' })
 */
export class MsegatSmsProvider implements SmsProvider {
  private readonly logger = new Logger(MsegatSmsProvider.name);
  private readonly userName: string;
  private readonly apiKey: string;
  private readonly sender: string;
  private readonly url: string;
  private readonly timeoutMs: number;

  constructor(options: MsegatSmsProviderOptions) {
    const opts = providerOptions(MsegatSmsProvider.name, options);
    this.userName = requiredString(MsegatSmsProvider.name, 'userName', opts.userName);
    this.apiKey = requiredString(MsegatSmsProvider.name, 'apiKey', opts.apiKey);
    this.sender = requiredString(MsegatSmsProvider.name, 'sender', opts.sender);
    this.url = `${resolveBaseUrl(MsegatSmsProvider.name, opts.baseUrl, 'https://www.msegat.com')}/gw/sendsms.php`;
    this.timeoutMs = resolveTimeout(MsegatSmsProvider.name, opts.timeoutMs);
  }

  async send({ to, message }: SmsMessage): Promise<SmsSendResult> {
    const recipient = e164Digits(to);
    if (!recipient) return sendFailed(this.logger, VENDOR, to, 'recipient is not an E.164 number');
    const reply = await callVendor(
      this.url,
      {
        method: 'POST',
        headers: { Accept: 'application/json', 'Content-Type': 'application/json' },
        body: JSON.stringify({
          userName: this.userName,
          numbers: recipient,
          userSender: this.sender,
          apiKey: this.apiKey,
          msg: message,
          msgEncoding: 'UTF8',
        }),
      },
      this.timeoutMs,
    );
    if ('failure' in reply) return sendFailed(this.logger, VENDOR, to, reply.failure);

    const body = (typeof reply.body === 'object' && reply.body !== null ? reply.body : {}) as {
      code?: unknown;
      message?: unknown;
      id?: unknown;
    };
    const code = typeof body.code === 'string' || typeof body.code === 'number' ? String(body.code) : '';
    const detail = [vendorReason(code, [this.apiKey]), vendorReason(body.message, [this.apiKey])]
      .filter(Boolean)
      .join(' ');
    if (reply.status < 200 || reply.status > 299) {
      return sendFailed(this.logger, VENDOR, to, `HTTP ${reply.status}${detail ? ` ${detail}` : ''}`);
    }
    if (!SUCCESS_CODES.has(code)) return sendFailed(this.logger, VENDOR, to, detail || 'unexpected response');
    const id = body.id;
    return { success: true, messageId: typeof id === 'string' || typeof id === 'number' ? String(id) : undefined };
  }
}
