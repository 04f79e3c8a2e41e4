import { taqnyatReceipts } from './delivery-receipts.js';
import { HttpSmsProvider } from './http-sms.util.js';
import type { HttpSmsProviderOptions, VendorRequest, VendorVerdict, WhatsAppEndpoint } from './http-sms.util.js';
import { optionalString, providerOptions, requiredString, resolveBaseUrl } from './provider-options.util.js';
import { authenticationTemplate, type WhatsAppTemplateOptions } from './whatsapp-template.util.js';

/** Taqnyat's WhatsApp channel (WhatsApp Business API through Taqnyat). */
export interface TaqnyatWhatsAppOptions extends WhatsAppTemplateOptions {
  /** The WhatsApp application's bearer token, when it is not the SMS one. @default bearerToken */
  bearerToken?: string;
  /** Origin of the WhatsApp API. @default baseUrl, or 'https://api.taqnyat.sa' */
  baseUrl?: string;
}

/** Options of {@link TaqnyatSmsProvider}. */
export interface TaqnyatSmsProviderOptions extends HttpSmsProviderOptions {
  /** The application's bearer token (Taqnyat portal → Developer → Application). */
  bearerToken: string;
  /** An active sender name of the account. */
  sender: string;
  /** Also send codes over WhatsApp with an authentication template. @default SMS only */
  whatsapp?: TaqnyatWhatsAppOptions;
}

/**
 * Sends codes with Taqnyat's REST API: `POST {baseUrl}/v1/messages` with `Authorization: Bearer <token>`
 * and JSON `{ recipients: ['966…'], body, sender }` (numbers in international format without 00 or +);
 * a send answers 201 `{ statusCode: 201, messageId, accepted, rejected, ... }`.
 * Sources: https://dev.taqnyat.sa/en/doc/sms/ and Taqnyat's own client, github.com/taqnyat/python.
 *
 * With `whatsapp`, codes also go out as a WhatsApp authentication template:
 * `POST {baseUrl}/wa/v2/messages/` with the same bearer token and Meta's Cloud API message
 * `{ messaging_product: 'whatsapp', recipient_type: 'individual', to: '966…', type: 'template',
 * template: { name, language: { code }, components } }`; the answer carries Meta's
 * `messages: [{ id: 'wamid…' }]`. With `whatsapp.receiptToken`, the delivery statuses Taqnyat posts
 * to the callback set in its portal (`id`, `status`: see {@link taqnyatReceipts}) cancel or trigger
 * the SMS fallback of `otp.fallbackAfter`; without it a WhatsApp send falls back only on an error or
 * a timeout.
 * Source: https://dev.taqnyat.sa/en/doc/whatsapp/
 *
 * @example new TaqnyatSmsProvider({ bearerToken: process.env.TAQNYAT_TOKEN!, sender: 'MyApp' })
 */
export class TaqnyatSmsProvider extends HttpSmsProvider {
  private readonly bearerToken: string;
  private readonly sender: string;
  private whatsappToken: string | undefined;

  constructor(options: TaqnyatSmsProviderOptions) {
    super('Taqnyat', options, 'https://api.taqnyat.sa', '/v1/messages');
    this.bearerToken = requiredString(TaqnyatSmsProvider.name, 'bearerToken', options.bearerToken);
    this.sender = requiredString(TaqnyatSmsProvider.name, 'sender', options.sender);
    if (options.whatsapp !== undefined) this.whatsapp = this.whatsappEndpoint(options);
  }

  private whatsappEndpoint(opts: TaqnyatSmsProviderOptions): WhatsAppEndpoint {
    const name = TaqnyatSmsProvider.name;
    const wa = providerOptions(`${name} whatsapp`, opts.whatsapp);
    const template = authenticationTemplate(name, wa);
    const token = optionalString(name, 'whatsapp.bearerToken', wa.bearerToken) ?? this.bearerToken;
    this.whatsappToken = token;
    this.acceptReceipts(template.receiptToken, taqnyatReceipts);
    return {
      url: `${resolveBaseUrl(name, wa.baseUrl ?? opts.baseUrl, 'https://api.taqnyat.sa')}/wa/v2/messages/`,
      request: (_to, recipient, code, locale) => ({
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({
          messaging_product: 'whatsapp',
          recipient_type: 'individual',
          to: recipient,
          type: 'template',
          template: template.render(locale, code),
        }),
      }),
      interpret: (status, body) => {
        const error = (body.error ?? {}) as { message?: unknown; code?: unknown };
        const messages = Array.isArray(body.messages) ? (body.messages as { id?: unknown }[]) : [];
        return this.verdict(status, [error.code, error.message, body.message], messages[0]?.id);
      },
    };
  }

  protected request(_to: string, recipient: string, message: string): VendorRequest {
    return {
      headers: { Authorization: `Bearer ${this.bearerToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ recipients: [recipient], body: message, sender: this.sender }),
    };
  }

  protected interpret(status: number, body: Record<string, unknown>, recipient: string): VendorVerdict {
    const detail = this.detail(body.message);
    // Taqnyat repeats the HTTP status in `statusCode`; either one outside 2xx is a refusal.
    const refused =
      this.httpFailure(status, detail) ??
      this.httpFailure(typeof body.statusCode === 'number' ? body.statusCode : status, detail);
    if (refused) return refused;
    // `rejected` lists the numbers Taqnyat would not send to, as a string like "[966500000000,]".
    if (String(body.rejected ?? '').includes(recipient)) return { reason: 'recipient rejected' };
    if (body.messageId === undefined || body.messageId === null) return { reason: 'unexpected response' };
    return { messageId: String(body.messageId) };
  }

  protected secrets(): readonly string[] {
    return this.whatsappToken ? [this.bearerToken, this.whatsappToken] : [this.bearerToken];
  }
}
