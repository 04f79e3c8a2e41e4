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

/** Options of {@link TwilioSmsProvider}. Give exactly one of `from` and `messagingServiceSid`. */
export interface TwilioSmsProviderOptions extends HttpSmsProviderOptions {
  /** Account SID (`AC…`); also the Basic-auth user name. */
  accountSid: string;
  /** The account's auth token; the Basic-auth password. */
  authToken: string;
  /** Sender: a Twilio number in E.164 or an approved alphanumeric sender ID. */
  from?: string;
  /** Sender: a Messaging Service (`MG…`) that picks the number itself. */
  messagingServiceSid?: string;
}

const VENDOR = 'Twilio';

/**
 * Sends codes with Twilio's Programmable Messaging API:
 * `POST {baseUrl}/2010-04-01/Accounts/{AccountSid}/Messages.json`, HTTP Basic auth
 * `AccountSid:AuthToken`, form-encoded `To` (E.164 with +), `From` or `MessagingServiceSid`, `Body`;
 * a send answers 201 with the Message resource (`sid`), an error 4xx/5xx `{ code, message, more_info, status }`.
 * Source: https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource
 *
 * @example new TwilioSmsProvider({ accountSid: 'AC…', authToken: process.env.TWILIO_AUTH_TOKEN!, from: '+15017122661' })
 */
export class TwilioSmsProvider implements SmsProvider {
  private readonly logger = new Logger(TwilioSmsProvider.name);
  private readonly authToken: string;
  private readonly sender: { From: string } | { MessagingServiceSid: string };
  private readonly authorization: string;
  private readonly url: string;
  private readonly timeoutMs: number;

  constructor(options: TwilioSmsProviderOptions) {
    const name = TwilioSmsProvider.name;
    const opts = providerOptions(name, options);
    const accountSid = requiredString(name, 'accountSid', opts.accountSid);
    // Catches the SID and the token swapped, which would otherwise only show up as 401s in production.
    if (!/^AC[0-9a-zA-Z]{32}$/.test(accountSid)) {
      throw new Error(`${name}: option "accountSid" must be an Account SID (AC followed by 32 characters)`);
    }
    this.authToken = requiredString(name, 'authToken', opts.authToken);
    const from = optionalString(name, 'from', opts.from);
    const messagingServiceSid = optionalString(name, 'messagingServiceSid', opts.messagingServiceSid);
    if ((from === undefined) === (messagingServiceSid === undefined)) {
      throw new Error(`${name}: give exactly one of the options "from" and "messagingServiceSid"`);
    }
    this.sender = from !== undefined ? { From: from } : { MessagingServiceSid: messagingServiceSid! };
    this.authorization = `Basic ${Buffer.from(`${accountSid}:${this.authToken}`).toString('base64')}`;
    const baseUrl = resolveBaseUrl(name, opts.baseUrl, 'https://api.twilio.com');
    this.url = `${baseUrl}/2010-04-01/Accounts/${encodeURIComponent(accountSid)}/Messages.json`;
    this.timeoutMs = resolveTimeout(name, opts.timeoutMs);
  }

  async send({ to, message }: SmsMessage): Promise<SmsSendResult> {
    if (!e164Digits(to)) return sendFailed(this.logger, VENDOR, to, 'recipient is not an E.164 number');
    const form = new URLSearchParams({ To: to, ...this.sender, Body: message });
    const reply = await callVendor(
      this.url,
      {
        method: 'POST',
        headers: {
          Accept: 'application/json',
          Authorization: this.authorization,
          'Content-Type': 'application/x-www-form-urlencoded',
        },
        body: form.toString(),
      },
      this.timeoutMs,
    );
    if ('failure' in reply) return sendFailed(this.logger, VENDOR, to, reply.failure);

    const body = (typeof reply.body === 'object' && reply.body !== null ? reply.body : {}) as {
      sid?: unknown;
      code?: unknown;
      message?: unknown;
    };
    if (reply.status < 200 || reply.status > 299) {
      // Twilio's messages quote the number ("The 'To' number +9665… is not valid"); vendorReason masks it.
      const detail = [vendorReason(body.code, [this.authToken]), vendorReason(body.message, [this.authToken])]
        .filter(Boolean)
        .join(' ');
      return sendFailed(this.logger, VENDOR, to, `HTTP ${reply.status}${detail ? ` ${detail}` : ''}`);
    }
    if (typeof body.sid !== 'string') return sendFailed(this.logger, VENDOR, to, 'unexpected response');
    return { success: true, messageId: body.sid };
  }
}
