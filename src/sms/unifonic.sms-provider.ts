import {
  HttpSmsProvider,
  type HttpSmsProviderOptions,
  messageIdOf,
  optionalString,
  providerOptions,
  requiredString,
  type VendorRequest,
  type VendorVerdict,
} from './http-sms.util.js';

/** Options of {@link UnifonicSmsProvider}. */
export interface UnifonicSmsProviderOptions extends HttpSmsProviderOptions {
  /** The SMS application's AppSid from Unifonic Cloud. */
  appSid: string;
  /** A registered sender name. @default the account's default sender */
  senderId?: string;
}

/**
 * Sends codes with Unifonic's Messages API: `POST {baseUrl}/rest/SMS/messages`, form-encoded
 * `AppSid`, `SenderID`, `Recipient` (international digits without + or 00), `Body`, `responseType=JSON`;
 * the answer is `{ success, message, errorCode, data: { MessageID, Status } }`.
 * Source: https://docs.unifonic.com/docs/sending-your-first-sms-via-unifonic-api
 *
 * @example new UnifonicSmsProvider({ appSid: process.env.UNIFONIC_APP_SID!, senderId: 'MyApp' })
 */
export class UnifonicSmsProvider extends HttpSmsProvider {
  private readonly appSid: string;
  private readonly senderId: string | undefined;

  constructor(options: UnifonicSmsProviderOptions) {
    const opts = providerOptions(UnifonicSmsProvider.name, options);
    super('Unifonic', opts, 'https://el.cloud.unifonic.com', '/rest/SMS/messages');
    this.appSid = requiredString(UnifonicSmsProvider.name, 'appSid', opts.appSid);
    this.senderId = optionalString(UnifonicSmsProvider.name, 'senderId', opts.senderId);
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
    return [this.appSid];
  }
}
