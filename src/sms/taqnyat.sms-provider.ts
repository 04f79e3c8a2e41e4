import {
  HttpSmsProvider,
  type HttpSmsProviderOptions,
  providerOptions,
  requiredString,
  type VendorRequest,
  type VendorVerdict,
} from './http-sms.util.js';

/** Options of {@link TaqnyatSmsProvider}. */
export interface TaqnyatSmsProviderOptions extends HttpSmsProviderOptions {
  /** The application's bearer token (Taqnyat portal → Developer → Application). */
  bearerToken: string;
  /** An active sender name of the account. */
  sender: string;
}

/**
 * Sends codes with Taqnyat's REST API: `POST {baseUrl}/v1/messages` with `Authorization: Bearer <token>`
 * and JSON `{ recipients: ['966…'], body, sender }` (numbers in international format without 00 or +);
 * a send answers 201 `{ statusCode: 201, messageId, accepted, rejected, ... }`.
 * Sources: https://dev.taqnyat.sa/en/doc/sms/ and Taqnyat's own client, github.com/taqnyat/python.
 *
 * @example new TaqnyatSmsProvider({ bearerToken: process.env.TAQNYAT_TOKEN!, sender: 'MyApp' })
 */
export class TaqnyatSmsProvider extends HttpSmsProvider {
  private readonly bearerToken: string;
  private readonly sender: string;

  constructor(options: TaqnyatSmsProviderOptions) {
    const opts = providerOptions(TaqnyatSmsProvider.name, options);
    super('Taqnyat', opts, 'https://api.taqnyat.sa', '/v1/messages');
    this.bearerToken = requiredString(TaqnyatSmsProvider.name, 'bearerToken', opts.bearerToken);
    this.sender = requiredString(TaqnyatSmsProvider.name, 'sender', opts.sender);
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
    return [this.bearerToken];
  }
}
