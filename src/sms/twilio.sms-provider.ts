import { HttpSmsProvider } from './http-sms.util.js';
import type { HttpSmsProviderOptions, VendorRequest, VendorVerdict, WhatsAppEndpoint } from './http-sms.util.js';
import { exactlyOne, providerOptions, requiredString } from './provider-options.util.js';
import { twilioReceipts } from './delivery-receipts.js';
import type { DeliveryReceipt } from './sms-provider.interface.js';

/**
 * Twilio's WhatsApp channel: a WhatsApp sender and an approved authentication Content Template
 * whose variable `1` is the code.
 */
export interface TwilioWhatsAppOptions {
  /** The WhatsApp sender in E.164 (sent as `whatsapp:+…`), or use `messagingServiceSid`. */
  from?: string;
  /** A Messaging Service with a WhatsApp sender, instead of `from`. */
  messagingServiceSid?: string;
  /** The Content Template SID (`HX…`), one for all locales or one per locale. */
  contentSid: string | { ar: string; en: string };
}

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
  /** Also send codes over WhatsApp with an authentication template. @default SMS only */
  whatsapp?: TwilioWhatsAppOptions;
}

/** The Account SID, checked before the URL is built from it. */
function accountSidOf(options: TwilioSmsProviderOptions): string {
  const name = TwilioSmsProvider.name;
  const accountSid = requiredString(name, 'accountSid', providerOptions(name, options).accountSid);
  // Catches the SID and the token swapped, which would otherwise only show up as 401s in production.
  if (!/^AC[0-9a-zA-Z]{32}$/.test(accountSid)) {
    throw new Error(`${name}: option "accountSid" must be an Account SID (AC followed by 32 characters)`);
  }
  return accountSid;
}

/**
 * Sends codes with Twilio's Programmable Messaging API:
 * `POST {baseUrl}/2010-04-01/Accounts/{AccountSid}/Messages.json`, HTTP Basic auth
 * `AccountSid:AuthToken`, form-encoded `To` (E.164 with +), `From` or `MessagingServiceSid`, `Body`;
 * a send answers 201 with the Message resource (`sid`), an error 4xx/5xx `{ code, message, more_info, status }`.
 * Source: https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource
 *
 * With `whatsapp`, codes also go out over WhatsApp on the same endpoint: `To=whatsapp:+966…`,
 * `From=whatsapp:+…` (or `MessagingServiceSid`), `ContentSid=HX…` and `ContentVariables={"1":"<code>"}`.
 * With `otp.fallbackAfter`, the WhatsApp request carries `StatusCallback` (the module's receipt
 * route) and Twilio's status posts (`MessageSid`, `MessageStatus`: `delivered`/`read`, or
 * `failed`/`undelivered`) tell whether to resend by SMS.
 * Sources: https://www.twilio.com/docs/content/send-templates-created-with-the-content-template-builder,
 * https://www.twilio.com/docs/whatsapp/api and
 * https://www.twilio.com/docs/messaging/guides/track-outbound-message-status
 *
 * @example new TwilioSmsProvider({ accountSid: 'AC…', authToken: process.env.TWILIO_AUTH_TOKEN!, from: '+15017122661' })
 */
export class TwilioSmsProvider extends HttpSmsProvider {
  private readonly authToken: string;
  private readonly sender: { From: string } | { MessagingServiceSid: string };
  private readonly authorization: string;

  constructor(options: TwilioSmsProviderOptions) {
    const accountSid = accountSidOf(options);
    super(
      'Twilio',
      options,
      'https://api.twilio.com',
      `/2010-04-01/Accounts/${encodeURIComponent(accountSid)}/Messages.json`,
    );
    const name = TwilioSmsProvider.name;
    this.authToken = requiredString(name, 'authToken', options.authToken);
    const [sender, value] = exactlyOne(name, { from: options.from, messagingServiceSid: options.messagingServiceSid });
    this.sender = sender === 'from' ? { From: value } : { MessagingServiceSid: value };
    this.authorization = `Basic ${Buffer.from(`${accountSid}:${this.authToken}`).toString('base64')}`;
    if (options.whatsapp !== undefined) this.whatsapp = this.whatsappEndpoint(options.whatsapp);
  }

  private whatsappEndpoint(options: TwilioWhatsAppOptions): WhatsAppEndpoint {
    const name = TwilioSmsProvider.name;
    const wa = providerOptions(`${name} whatsapp`, options);
    const [from, value] = exactlyOne(name, {
      'whatsapp.from': wa.from,
      'whatsapp.messagingServiceSid': wa.messagingServiceSid,
    });
    const sender: Record<string, string> =
      from === 'whatsapp.from' ? { From: `whatsapp:${value}` } : { MessagingServiceSid: value };
    const sids =
      typeof wa.contentSid === 'string'
        ? { ar: wa.contentSid, en: wa.contentSid }
        : providerOptions(`${name} whatsapp.contentSid`, wa.contentSid);
    const contentSid = {
      ar: requiredString(name, 'whatsapp.contentSid', sids.ar),
      en: requiredString(name, 'whatsapp.contentSid', sids.en),
    };
    return {
      url: this.url,
      request: (to, _recipient, code, locale, statusCallback) => ({
        headers: { Authorization: this.authorization, 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          To: `whatsapp:${to}`,
          ...sender,
          ContentSid: contentSid[locale === 'en' ? 'en' : 'ar'],
          ContentVariables: JSON.stringify({ 1: code }),
          ...(statusCallback ? { StatusCallback: statusCallback } : {}),
        }).toString(),
      }),
      interpret: (status, body) => this.interpret(status, body),
    };
  }

  protected request(to: string, _recipient: string, message: string): VendorRequest {
    return {
      headers: { Authorization: this.authorization, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ To: to, ...this.sender, Body: message }).toString(),
    };
  }

  /** Twilio's status callback (`MessageSid`, `MessageStatus`), posted to the message's `StatusCallback`. */
  override readonly readReceipts: (body: Record<string, unknown>) => DeliveryReceipt[] = twilioReceipts;

  protected interpret(status: number, body: Record<string, unknown>): VendorVerdict {
    // Twilio's messages quote the number ("The 'To' number +9665… is not valid"); vendorReason masks it.
    const refused = this.httpFailure(status, this.detail(body.code, body.message));
    if (refused) return refused;
    if (typeof body.sid !== 'string') return { reason: 'unexpected response' };
    return { messageId: body.sid };
  }

  protected secrets(): readonly string[] {
    return [this.authToken];
  }
}
