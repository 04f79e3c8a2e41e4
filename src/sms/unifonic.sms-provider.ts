import { unifonicReceipts } from './delivery-receipts.js';
import {
  HttpSmsProvider,
  type HttpSmsProviderOptions,
  messageIdOf,
  type VendorRequest,
  type VendorVerdict,
  type WhatsAppEndpoint,
} from './http-sms.util.js';
import { optionalString, providerOptions, requiredString, resolveBaseUrl } from './provider-options.util.js';
import { authenticationTemplate, type WhatsAppTemplateOptions } from './whatsapp-template.util.js';

/** Unifonic's WhatsApp channel (the Conversations API), with its own key pair. */
export interface UnifonicWhatsAppOptions extends WhatsAppTemplateOptions {
  /** The WhatsApp application's public key (Developers → Applications), sent as the `PublicId` header. */
  publicId: string;
  /** The application's secret key, sent as the `Secret` header. */
  secret: string;
  /** Origin of the Conversations API. @default 'https://apis.unifonic.com' */
  baseUrl?: string;
}

/** Options of {@link UnifonicSmsProvider}. */
export interface UnifonicSmsProviderOptions extends HttpSmsProviderOptions {
  /** The SMS application's AppSid from Unifonic Cloud. */
  appSid: string;
  /** A registered sender name. @default the account's default sender */
  senderId?: string;
  /** Also send codes over WhatsApp with an authentication template. @default SMS only */
  whatsapp?: UnifonicWhatsAppOptions;
}

/**
 * Sends codes with Unifonic's Messages API: `POST {baseUrl}/rest/SMS/messages`, form-encoded
 * `AppSid`, `SenderID`, `Recipient` (international digits without + or 00), `Body`, `responseType=JSON`;
 * the answer is `{ success, message, errorCode, data: { MessageID, Status } }`.
 * Source: https://docs.unifonic.com/docs/sending-your-first-sms-via-unifonic-api
 *
 * With `whatsapp`, codes also go out as a WhatsApp template through the Conversations API:
 * `POST {whatsapp.baseUrl}/v1/messages` with the headers `PublicId` and `Secret` and JSON
 * `{ recipient: { contact: '+966…', channel: 'whatsapp' }, content: { type: 'template', name,
 * language: { code }, components } }`; the answer carries the message `id`. With
 * `whatsapp.receiptToken`, the delivery reports Unifonic posts to the webhook set in its console
 * (`messageId`, `eventType`: see {@link unifonicReceipts}) cancel or trigger the SMS fallback of
 * `otp.fallbackAfter`; without it a WhatsApp send falls back only on an error or a timeout.
 * Sources: https://docs.unifonic.com/docs/whatsapp-template-messages,
 * https://docs.unifonic.com/docs/getting-your-api-access and
 * https://docs.unifonic.com/docs/message-delivery-status
 *
 * @example new UnifonicSmsProvider({ appSid: process.env.UNIFONIC_APP_SID!, senderId: 'MyApp' })
 */
export class UnifonicSmsProvider extends HttpSmsProvider {
  private readonly appSid: string;
  private readonly senderId: string | undefined;
  private whatsappSecret: string | undefined;

  constructor(options: UnifonicSmsProviderOptions) {
    super('Unifonic', options, 'https://el.cloud.unifonic.com', '/rest/SMS/messages');
    this.appSid = requiredString(UnifonicSmsProvider.name, 'appSid', options.appSid);
    this.senderId = optionalString(UnifonicSmsProvider.name, 'senderId', options.senderId);
    if (options.whatsapp !== undefined) this.whatsapp = this.whatsappEndpoint(options.whatsapp);
  }

  private whatsappEndpoint(options: UnifonicWhatsAppOptions): WhatsAppEndpoint {
    const name = UnifonicSmsProvider.name;
    const wa = providerOptions(`${name} whatsapp`, options);
    const publicId = requiredString(name, 'whatsapp.publicId', wa.publicId);
    const secret = requiredString(name, 'whatsapp.secret', wa.secret);
    const template = authenticationTemplate(name, wa);
    this.whatsappSecret = secret;
    this.acceptReceipts(template.receiptToken, unifonicReceipts);
    return {
      url: `${resolveBaseUrl(name, wa.baseUrl, 'https://apis.unifonic.com')}/v1/messages`,
      request: (to, _recipient, code, locale) => ({
        headers: { PublicId: publicId, Secret: secret, 'Content-Type': 'application/json' },
        body: JSON.stringify({
          recipient: { contact: to, channel: 'whatsapp' },
          content: { type: 'template', ...template.render(locale, code) },
        }),
      }),
      interpret: (status, body) =>
        this.verdict(status, [body.code, body.message, body.error], body.id ?? body.messageId),
    };
  }

  protected request(_to: string, recipient: string, message: string): VendorRequest {
    const form = new URLSearchParams({ AppSid: this.appSid });
    if (this.senderId) form.set('SenderID', this.senderId);
    form.set('Recipient', recipient);
    form.set('Body', message);
    form.set('responseType', 'JSON');
    return { headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: form.toString() };
  }

  protected interpret(status: number, body: Record<string, unknown>): VendorVerdict {
    const detail = this.detail(body.errorCode, body.message);
    const refused = this.httpFailure(status, detail);
    if (refused) return refused;
    // The docs show `success` both as a boolean (single send) and as the string "true" (bulk send).
    if (body.success !== true && body.success !== 'true') return { reason: detail || 'unexpected response' };
    const data = (body.data ?? {}) as { MessageID?: unknown; Status?: unknown };
    if (data.Status === 'Rejected' || data.Status === 'Failed') {
      return { reason: `message ${data.Status.toLowerCase()}` };
    }
    return { messageId: messageIdOf(data.MessageID) };
  }

  protected secrets(): readonly string[] {
    return this.whatsappSecret ? [this.appSid, this.whatsappSecret] : [this.appSid];
  }
}
